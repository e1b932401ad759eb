/**
 * Local accounts' sign-in: e-mail, password and a TOTP code, all three checked every time, so a
 * refusal never says which was wrong. An unknown e-mail costs the same scrypt work as a known one
 * (a dummy hash), so timing does not tell either. LOGIN_MAX_FAILURES refusals in a row lock the
 * account for LOGIN_LOCKOUT; while locked it is refused even with the right password.
 * Every outcome goes to the practice's audit log under the user's id (never the e-mail).
 */
import type { TenancyStore, UserRecord } from '../store/store.js';
import { dummyHash, verifyPassword } from './password.js';
import { checkTotp } from './totp.js';

export interface LocalSigninDeps {
  store: TenancyStore;
  now: () => number;
  maxFailures: number;
  lockoutSeconds: number;
}

export interface Credentials { email: string; password: string; code: string }

export type LocalOutcome =
  | { ok: true; user: UserRecord }
  | { ok: false; reason: 'not_recognised' }
  | { ok: false; reason: 'locked'; until: number };

export class LocalSignin {
  /**
   * Sign-ins to one account run one after another in this process, so two requests at the same
   * moment cannot both slip past the failure count; that a code works once comes from the store
   * (acceptTotpStep), so it holds across nodes too.
   */
  private readonly inFlight = new Map<string, Promise<LocalOutcome>>();

  constructor(private readonly deps: LocalSigninDeps) {
    // Made now, so the first unknown e-mail does not take longer than the rest (hash + verify).
    void dummyHash();
  }

  check(creds: Credentials): Promise<LocalOutcome> {
    const key = creds.email.trim().toLowerCase();
    const run = (this.inFlight.get(key) ?? Promise.resolve()).catch(() => undefined).then(() => this.checkNow(creds));
    this.inFlight.set(key, run);
    run.finally(() => {
      if (this.inFlight.get(key) === run) this.inFlight.delete(key);
    }).catch(() => undefined);
    return run;
  }

  private async checkNow(creds: Credentials): Promise<LocalOutcome> {
    const { store, now } = this.deps;
    const user = await store.findUserByEmail(creds.email.trim());
    const at = now();
    const usable = user?.status === 'active' && user.passwordHash !== null && user.totpSecret !== null;
    if (!user || !usable) {
      await verifyPassword(creds.password, await dummyHash());
      await store.appendPracticeEvent({
        practiceId: user?.practiceId ?? null, at, actor: user ? `user:${user.id}` : 'system', type: 'signin_refused',
        detail: { method: 'local', reason: user ? `account_${user.status}` : 'unknown_account' },
      });
      return { ok: false, reason: 'not_recognised' };
    }
    const actor = `user:${user.id}` as const;
    if (user.lockedUntil !== null && user.lockedUntil > at) {
      await store.appendPracticeEvent({ practiceId: user.practiceId, at, actor, type: 'signin_refused', detail: { method: 'local', reason: 'locked' } });
      return { ok: false, reason: 'locked', until: user.lockedUntil };
    }
    // Both factors are checked whatever the first says: the work and the answer are the same.
    const [passwordOk, step] = await Promise.all([
      verifyPassword(creds.password, user.passwordHash as string),
      checkTotp(user.totpSecret as string, creds.code.trim(), at, user.lastTotpStep),
    ]);
    // The store takes the code's step only if no sign-in took it (or a later one) first: on
    // any node, at any instant, a code works once.
    const accepted = passwordOk && step !== undefined && (await store.acceptTotpStep(user.id, step));
    if (!accepted) {
      const after = await store.recordLoginFailure(user.id, at, this.deps.maxFailures, this.deps.lockoutSeconds * 1000);
      const locked = after?.lockedUntil != null && after.lockedUntil > at;
      await store.appendPracticeEvent({
        practiceId: user.practiceId, at, actor, type: locked ? 'account_locked' : 'signin_refused',
        detail: { method: 'local', reason: passwordOk ? 'code' : 'password' },
      });
      return locked ? { ok: false, reason: 'locked', until: after.lockedUntil as number } : { ok: false, reason: 'not_recognised' };
    }
    await store.updateUser(user.id, { failedLogins: 0, lockedUntil: null }, at);
    await store.appendPracticeEvent({ practiceId: user.practiceId, at, actor, type: 'signed_in', detail: { method: 'local' } });
    return { ok: true, user: { ...user, failedLogins: 0, lockedUntil: null, lastTotpStep: step } };
  }
}
