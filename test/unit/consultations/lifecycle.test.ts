import { describe, expect, it } from 'vitest';
import {
  type ConsultationStatus, canTransition, consultationStatuses, isTerminal, transition,
} from '../../../server/consultations/lifecycle.js';
import { AppError } from '../../../server/errors.js';

/** The lifecycle of design.md 2.2, written out independently of the source's table. */
const allowed: readonly [ConsultationStatus, ConsultationStatus][] = [
  ['created', 'waiting'],
  ['created', 'expired'],
  ['created', 'ended'],
  ['waiting', 'in_call'],
  ['waiting', 'expired'],
  ['waiting', 'ended'],
  ['in_call', 'ended'],
];
const isAllowed = (from: ConsultationStatus, to: ConsultationStatus) => allowed.some(([f, t]) => f === from && t === to);

const refused = consultationStatuses.flatMap((from) =>
  consultationStatuses.filter((to) => !isAllowed(from, to)).map((to) => [from, to] as const));

function invalidStateOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected the transition to be refused');
}

describe('consultation lifecycle', () => {
  it.each(allowed)('allows %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(transition(from, to)).toBe(to);
  });

  it.each(refused)('refuses %s -> %s with invalid_state', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    const err = invalidStateOf(() => transition(from, to));
    expect(err.code).toBe('invalid_state');
    expect(err.status).toBe(409);
    expect(err.message).toContain(from);
    expect(err.message).toContain(to);
  });

  it('refuses the transitions a careless caller would try', () => {
    for (const [from, to] of [['ended', 'waiting'], ['expired', 'in_call'], ['in_call', 'waiting'], ['created', 'in_call']] as const) {
      expect(invalidStateOf(() => transition(from, to)).code).toBe('invalid_state');
    }
  });

  it('treats ended and expired as terminal, with no way out', () => {
    expect(consultationStatuses.filter(isTerminal)).toEqual(['ended', 'expired']);
    for (const from of ['ended', 'expired'] as const) {
      for (const to of consultationStatuses) expect(canTransition(from, to)).toBe(false);
    }
  });

  it('lets every open consultation be ended', () => {
    for (const from of consultationStatuses.filter((s) => !isTerminal(s))) expect(canTransition(from, 'ended')).toBe(true);
  });

  it('never stays in place (no self-transitions)', () => {
    for (const s of consultationStatuses) expect(canTransition(s, s)).toBe(false);
  });
});
