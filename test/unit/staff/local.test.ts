/** Local sign-in on a real store (SQLite, or PostgreSQL in the postgres project) with a test clock: what is refused, counted, locked and audited. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalSignin } from '../../../server/staff/local.js';
import { hashPassword } from '../../../server/staff/password.js';
import { newTotpSecret, stepAt, totpAt } from '../../../server/staff/totp.js';
import { DEFAULT_PRACTICE_ID } from '../../../server/store/db.js';
import type { Store } from '../../../server/store/store.js';
import { openTestStore } from '../../helpers/store.js';

const PASSWORD = 'a long staff password';
/** Cheap parameters: these tests are about counting, not about scrypt. */
const FAST = { N: 2 ** 10, r: 8, p: 1 };
const EMAIL = 'gp@example.nhs.uk';
let dir: string;
let store: Store;
let clock: number;
let secret: string;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'openconsult-local-'));
  store = await openTestStore(dir);
  clock = Date.UTC(2026, 10, 30, 9, 0, 15);
  secret = newTotpSecret();
  await store.addUser({
    id: 'u1', practiceId: DEFAULT_PRACTICE_ID, email: EMAIL, displayName: 'Dr A', roles: ['clinician'], status: 'active',
    oidcSubject: null, passwordHash: await hashPassword(PASSWORD, FAST), totpSecret: secret, lastTotpStep: null,
    failedLogins: 0, lockedUntil: null, createdAt: clock,
  });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const signin = () => new LocalSignin({ store, now: () => clock, maxFailures: 3, lockoutSeconds: 60 });
const attempt = async (over: Partial<{ email: string; password: string; code: string }> = {}) =>
  signin().check({ email: EMAIL, password: PASSWORD, code: await totpAt(secret, clock), ...over });

describe('local sign-in', () => {
  it('accepts all three, remembers the code\'s step and clears the count', async () => {
    await attempt({ password: 'wrong password here' });
    const ok = await attempt();
    expect(ok.ok).toBe(true);
    expect(await store.getUser('u1')).toMatchObject({ failedLogins: 0, lockedUntil: null, lastTotpStep: stepAt(clock) });
  });

  it('counts a wrong password and a wrong code alike, and locks at the third', async () => {
    expect(await attempt({ password: 'wrong password here' })).toEqual({ ok: false, reason: 'not_recognised' });
    expect(await attempt({ code: (await totpAt(secret, clock)) === '000000' ? '111111' : '000000' })).toEqual({ ok: false, reason: 'not_recognised' });
    expect((await store.getUser('u1'))?.failedLogins).toBe(2);
    expect(await attempt({ password: 'wrong password again' })).toEqual({ ok: false, reason: 'locked', until: clock + 60_000 });
    expect(await attempt()).toEqual({ ok: false, reason: 'locked', until: clock + 60_000 });
    clock += 60_000;
    expect((await attempt()).ok).toBe(true);
  });

  it('does not count or lock anything for an unknown e-mail, and audits without the e-mail', async () => {
    expect(await attempt({ email: 'nobody@example.nhs.uk' })).toEqual({ ok: false, reason: 'not_recognised' });
    expect((await store.getUser('u1'))?.failedLogins).toBe(0);
    await attempt({ password: 'wrong password here' });
    await attempt();
    const events = await store.listPracticeEvents(DEFAULT_PRACTICE_ID);
    expect(events.map((e) => [e.actor, e.type])).toEqual([['user:u1', 'signin_refused'], ['user:u1', 'signed_in']]);
    expect(JSON.stringify(events)).not.toContain('example.nhs.uk');
  });

  it('takes one TOTP code once even when two nodes receive it at the same instant', async () => {
    // Two nodes: two sign-in services (no shared in-process queue), one store; each reads the
    // account before either writes (the reads wait for each other), as at the same instant.
    const code = await totpAt(secret, clock);
    let arrived = 0;
    let bothRead: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => (bothRead = resolve));
    const sameInstant: Store = Object.create(store, {
      findUserByEmail: {
        value: async (email: string) => {
          const user = await store.findUserByEmail(email);
          if (++arrived === 2) bothRead();
          await barrier;
          return user;
        },
      },
    });
    const node = () => new LocalSignin({ store: sameInstant, now: () => clock, maxFailures: 3, lockoutSeconds: 60 });
    const outcomes = await Promise.all([node(), node()].map((n) => n.check({ email: EMAIL, password: PASSWORD, code })));
    expect(outcomes.map((o) => o.ok).sort()).toEqual([false, true]);
    expect(await store.getUser('u1')).toMatchObject({ lastTotpStep: stepAt(clock) });
  });

  it('refuses a disabled or not yet set up account with the same answer', async () => {
    await store.updateUser('u1', { status: 'disabled' }, clock);
    expect(await attempt()).toEqual({ ok: false, reason: 'not_recognised' });
    await store.updateUser('u1', { status: 'invited' }, clock);
    expect(await attempt()).toEqual({ ok: false, reason: 'not_recognised' });
  });
});
