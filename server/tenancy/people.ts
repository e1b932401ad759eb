/**
 * A practice's people: invitations (a user record and a one-time set-up link), roles, disabling.
 * Used by the admin API, the operator's `user` command and the first start's admin invitation.
 * The set-up link is `{PUBLIC_URL}/setup/{code}`; like patients' links it is 128 random bits,
 * stored hashed, used once (server/staff/ turns it into a local account or an OIDC binding).
 */
import { hashCode, newCode, newId } from '../auth/codes.js';
import { AppError } from '../errors.js';
import type { StaffRole } from '../../signalling/vocabulary.js';
import type { TenancyStore, UserRecord } from '../store/store.js';

export interface PeopleDeps {
  store: TenancyStore;
  now: () => number;
  /** Base of links (PUBLIC_URL); a function because it may be known only once the server listens. */
  publicUrl: () => string;
  setupLinkTtlSeconds: number;
}

export interface Invitation {
  user: UserRecord;
  /** Shown once to whoever invited them, to pass on; only its hash is kept. */
  setupUrl: string;
  setupCode: string;
  expiresAt: number;
}

/**
 * The e-mail a first admin starts with, before they give their own at set-up (`.invalid` is
 * reserved: it can never be a real address, RFC 2606).
 */
export const placeholderEmail = (practiceOds: string) => `first-admin@${practiceOds.toLowerCase()}.setup.invalid`;
export const isPlaceholderEmail = (email: string) => email.endsWith('.setup.invalid');

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Who did it, for the audit log (never a name or e-mail). */
export type PeopleActor = `user:${string}` | `key:${string}` | 'operator' | 'system';

export class People {
  constructor(private readonly deps: PeopleDeps) {}

  setupUrl(code: string): string {
    return `${this.deps.publicUrl()}/setup/${code}`;
  }

  async invite(practiceId: string, input: { email: string; displayName: string; roles: StaffRole[] }, actor: PeopleActor): Promise<Invitation> {
    const email = input.email.trim();
    if (!EMAIL_RE.test(email)) throw new AppError('validation_failed', 'Enter an e-mail address like name@nhs.net.');
    if (!input.roles.length) throw new AppError('validation_failed', 'Give the person at least one role.');
    if (await this.deps.store.findUserByEmail(email)) {
      throw new AppError('invalid_state', 'Someone with that e-mail address already has an account on this service.');
    }
    const now = this.deps.now();
    const user: UserRecord = {
      id: newId(), practiceId, email, displayName: input.displayName.trim(), roles: [...new Set(input.roles)], status: 'invited',
      oidcSubject: null, passwordHash: null, totpSecret: null, lastTotpStep: null, failedLogins: 0, lockedUntil: null, createdAt: now,
    };
    const code = newCode();
    const expiresAt = now + this.deps.setupLinkTtlSeconds * 1000;
    await this.deps.store.addUser(user, { codeHash: hashCode(code), expiresAt });
    await this.deps.store.appendPracticeEvent({ practiceId, at: now, actor, type: 'user_invited', detail: { userId: user.id, roles: user.roles } });
    return { user, setupUrl: this.setupUrl(code), setupCode: code, expiresAt };
  }

  /** A new set-up link (the earlier ones stop working): the invitation was lost, or a local account's factor was. */
  async reissueSetupLink(userId: string, actor: PeopleActor): Promise<Invitation> {
    const user = await this.deps.store.getUser(userId);
    if (!user) throw new AppError('not_found', 'There is no such user.');
    const now = this.deps.now();
    const code = newCode();
    const expiresAt = now + this.deps.setupLinkTtlSeconds * 1000;
    await this.deps.store.replaceSetupLink({ codeHash: hashCode(code), userId, expiresAt }, now);
    await this.deps.store.appendPracticeEvent({ practiceId: user.practiceId, at: now, actor, type: 'setup_link_issued', detail: { userId } });
    return { user, setupUrl: this.setupUrl(code), setupCode: code, expiresAt };
  }

  async setRoles(userId: string, roles: StaffRole[], actor: PeopleActor): Promise<void> {
    if (!roles.length) throw new AppError('validation_failed', 'Give the person at least one role.');
    const user = await this.deps.store.getUser(userId);
    if (!user) throw new AppError('not_found', 'There is no such user.');
    const now = this.deps.now();
    await this.deps.store.updateUser(userId, { roles: [...new Set(roles)] }, now);
    await this.deps.store.appendPracticeEvent({ practiceId: user.practiceId, at: now, actor, type: 'user_roles_set', detail: { userId, roles } });
  }

  /** Disables an account and ends its sign-ins at once. */
  async disable(userId: string, actor: PeopleActor): Promise<void> {
    const user = await this.deps.store.getUser(userId);
    if (!user) throw new AppError('not_found', 'There is no such user.');
    const now = this.deps.now();
    await this.deps.store.updateUser(userId, { status: 'disabled' }, now);
    await this.deps.store.deleteUserSessions(userId);
    await this.deps.store.appendPracticeEvent({ practiceId: user.practiceId, at: now, actor, type: 'user_disabled', detail: { userId } });
  }

  /** A disabled account may sign in again (an invited one stays invited until set up). */
  async enable(userId: string, actor: PeopleActor): Promise<void> {
    const user = await this.deps.store.getUser(userId);
    if (!user) throw new AppError('not_found', 'There is no such user.');
    const now = this.deps.now();
    const status = user.passwordHash || user.oidcSubject ? 'active' : 'invited';
    await this.deps.store.updateUser(userId, { status, failedLogins: 0, lockedUntil: null }, now);
    await this.deps.store.appendPracticeEvent({ practiceId: user.practiceId, at: now, actor, type: 'user_enabled', detail: { userId } });
  }
}
