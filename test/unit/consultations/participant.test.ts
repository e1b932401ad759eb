import { describe, expect, it } from 'vitest';
import { type Presence, movePresence } from '../../../server/consultations/participant.js';
import { AppError } from '../../../server/errors.js';

const presences: readonly Presence[] = ['checking', 'waiting', 'admitted', 'reconnecting', 'left'];
const allowed: readonly [Presence, Presence][] = [
  ['checking', 'waiting'], ['checking', 'admitted'], ['checking', 'left'],
  ['waiting', 'admitted'], ['waiting', 'reconnecting'], ['waiting', 'left'],
  ['admitted', 'reconnecting'], ['admitted', 'left'],
  ['reconnecting', 'waiting'], ['reconnecting', 'admitted'], ['reconnecting', 'left'],
  ['left', 'waiting'], ['left', 'admitted'],
];
const refused = presences.flatMap((from) =>
  presences.filter((to) => !allowed.some(([f, t]) => f === from && t === to)).map((to) => [from, to] as const));

describe('participant presence', () => {
  it.each(allowed)('moves %s -> %s', (from, to) => {
    expect(movePresence(from, to)).toBe(to);
  });

  it.each(refused)('refuses %s -> %s with invalid_state', (from, to) => {
    let caught: unknown;
    try {
      movePresence(from, to);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('invalid_state');
  });

  it('never sends an admitted participant back to the waiting room', () => {
    expect(() => movePresence('admitted', 'waiting')).toThrow(AppError);
  });
});
