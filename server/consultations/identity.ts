/**
 * The patient's identity check (issue #18). The practice may give the patient's date of birth
 * when it creates the consultation; the patient then types it before joining. It guards against
 * the link reaching someone else (a wrong or recycled number): they cannot redeem the link, so
 * cannot reach the waiting room, and five wrong dates lock it until the practice re-sends it.
 *
 * The date is kept only as a salted scrypt hash (the encoding of staff passwords): a date of birth
 * has about 16 bits of entropy, so no hash makes it secret against someone holding the database;
 * a per-record salt and a memory-hard function only make recovering many of them at once slow
 * (about a tenth of a second per guess), with no server key to manage across a region's nodes.
 * What protects it is that it is deleted with the phone number by retention and never logged.
 */
import { hashCode } from '../auth/codes.js';
import { linkError, linkRefusal } from '../auth/links.js';
import { AppError } from '../errors.js';
import { type ScryptParams, hashPassword, verifyPassword } from '../staff/password.js';
import type { IdentityRecord, IdentityStore, LinkRecord, LinkStore } from '../store/store.js';
import type { IdentityState } from '../../signalling/vocabulary.js';
import type { Role } from './participant.js';
import type { Consultations } from './service.js';

/** Wrong dates before the link locks. */
export const IDENTITY_TRIES = 5;

/** 32 MiB, about 0.1 s: paid once at creation and at most once per try (five per link). */
const DOB_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A date of birth as `YYYY-MM-DD` if it is a real date, not in the future and not before 1900;
 * otherwise why not, in words for whoever typed it.
 */
export function dateOfBirthProblem(value: string, now: number): string | undefined {
  const m = DATE.exec(value);
  if (!m) return 'Enter the date of birth as a year, month and day (YYYY-MM-DD).';
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return 'The date of birth must be a real date.';
  if (y < 1900) return 'The date of birth must be after 1900.';
  if (date.getTime() > now) return 'The date of birth must be in the past.';
  return undefined;
}

export function checkedDateOfBirth(value: string, now: number): string {
  const problem = dateOfBirthProblem(value, now);
  if (problem) throw new AppError('validation_failed', problem);
  return value;
}

/** A new consultation's check (written with it, atomically), from a date already checked. */
export async function newIdentityRecord(consultationId: string, dateOfBirth: string, at: number): Promise<IdentityRecord> {
  return { consultationId, dobHash: await hashPassword(dateOfBirth, DOB_SCRYPT), status: 'pending', failures: 0, updatedAt: at };
}

const lockedError = () => new AppError('identity_locked',
  'The date of birth was entered wrongly too many times, so this link is locked. Please call the practice.');

export interface IdentityDeps {
  store: IdentityStore & Pick<LinkStore, 'findLink'>;
  consultations: Consultations;
  now: () => number;
}

export class IdentityCheck {
  constructor(private readonly deps: IdentityDeps) {}

  async stateOf(consultationId: string): Promise<IdentityState> {
    return (await this.deps.store.getIdentity(consultationId))?.status ?? 'not_required';
  }

  async statesOf(consultationIds: readonly string[]): Promise<Map<string, IdentityState>> {
    const found = consultationIds.length ? await this.deps.store.identitiesOf(consultationIds) : [];
    return new Map(found.map((r) => [r.consultationId, r.status]));
  }

  /** The state a link's holder is in: only the patient is ever asked. Undefined for an unknown link. */
  async ofLink(code: string): Promise<{ link: LinkRecord; role: Role; state: IdentityState } | undefined> {
    const link = await this.deps.store.findLink(hashCode(code));
    if (!link) return undefined;
    const role = (await this.deps.consultations.participant(link.participantId))?.role ?? 'guest';
    return { link, role, state: role === 'patient' ? await this.stateOf(link.consultationId) : 'not_required' };
  }

  /** Throws unless `role` may join: a patient whose check is pending or failed may not. */
  async ensureConfirmed(consultationId: string, role: Role): Promise<void> {
    if (role !== 'patient') return;
    const state = await this.stateOf(consultationId);
    if (state === 'failed') throw lockedError();
    if (state === 'pending') throw new AppError('identity_required', 'Please confirm your date of birth before joining.');
  }

  /**
   * The patient's try with the link's code (the link itself is not used up). Right: confirmed.
   * Wrong: `identity_mismatch` with the tries left, the last one `identity_locked`. Audited,
   * without the date.
   */
  async tryDate(code: string, dateOfBirth: string): Promise<IdentityState> {
    const now = this.deps.now();
    const held = await this.ofLink(code);
    if (!held) throw linkError('not_found');
    const refusal = linkRefusal(held.link, now);
    if (refusal) throw linkError(refusal);
    await this.deps.consultations.ensureOpen(held.link.consultationId);
    if (held.state === 'failed') throw lockedError();
    if (held.state !== 'pending') return held.state;
    checkedDateOfBirth(dateOfBirth, now);
    const id = held.link.consultationId;
    const stored = await this.deps.store.getIdentity(id);
    const right = stored?.dobHash ? await verifyPassword(dateOfBirth, stored.dobHash) : false;
    const after = await this.deps.store.recordIdentityTry(id, right, IDENTITY_TRIES, this.deps.now());
    if (after?.status === 'confirmed') {
      if (right) await this.deps.consultations.audit(id, 'patient', 'identity_confirmed');
      return 'confirmed';
    }
    await this.deps.consultations.audit(id, 'patient', after?.status === 'failed' ? 'identity_locked' : 'identity_mismatch', {
      failures: after?.failures ?? IDENTITY_TRIES,
    });
    if (after?.status !== 'pending') throw lockedError();
    const left = IDENTITY_TRIES - after.failures;
    throw new AppError('identity_mismatch',
      `That date of birth does not match the one the practice has for you. You can try ${left} more time${left === 1 ? '' : 's'}.`);
  }

  /** A new link was sent: its holder is asked again, with all their tries. */
  async reset(consultationId: string): Promise<void> {
    await this.deps.store.resetIdentity(consultationId, this.deps.now());
  }
}
