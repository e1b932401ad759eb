/**
 * Local accounts over HTTP against the real server: set-up link -> password + TOTP, sign-in,
 * one refusal for every wrong thing, lockout and unlock, CSRF on the practice API, idle and
 * absolute end of a session, sign-out. A test clock drives TOTP, lockout and session ends.
 */
import { describe, expect, it } from 'vitest';
import { SIGNIN_REFUSALS_PER_MINUTE } from '../../../server/http/signin.js';
import { totpAt } from '../../../server/staff/totp.js';
import { PASSWORD, staffServer } from './staff-http.js';

const s = staffServer;
const call = (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) => s.call(method, route, body, headers);
const start = (overrides: Record<string, unknown> = {}) => s.start({ loginMaxFailures: 3, loginLockout: 120, ...overrides });

/** Invites a clinician and sets up their local account through the set-up link; their TOTP secret. */
async function localAccount(email = 'gp@example.nhs.uk'): Promise<string> {
  const inv = await s.server!.app.people.invite('default', { email, displayName: 'Dr Ada Jones', roles: ['clinician'] }, 'operator');
  const info = await call('GET', `/api/v1/setup/${inv.setupCode}`);
  expect(info.status).toBe(200);
  const secret: string = info.body.local.secret;
  const done = await call('POST', `/api/v1/setup/${inv.setupCode}`, { password: PASSWORD, totpSecret: secret, code: await totpAt(secret, s.t) });
  expect(done.status).toBe(200);
  s.t += 30_000; // the set-up used this step's code
  return secret;
}

const signIn = async (secret: string, over: Partial<{ email: string; password: string; code: string }> = {}) =>
  call('POST', '/auth/local', { email: 'gp@example.nhs.uk', password: PASSWORD, code: await totpAt(secret, s.t), ...over });

describe('local staff sign-in', () => {
  it('signs in with e-mail, password and code: a session cookie, the CSRF token and the console next', async () => {
    await start();
    const secret = await localAccount();
    const res = await signIn(secret);
    expect(res.status).toBe(200);
    expect(res.body.next).toBe('/console');
    expect(res.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(res.cookie).toBeDefined();
    const me = await call('GET', '/auth/session', undefined, { cookie: res.cookie! });
    expect(me.body).toMatchObject({ displayName: 'Dr Ada Jones', roles: ['clinician'], csrfToken: res.body.csrfToken });
    const events = await s.server!.app.store.listPracticeEvents('default');
    expect(events.map((e) => e.type)).toContain('signed_in');
    expect(JSON.stringify(events)).not.toContain('gp@example.nhs.uk');
  });

  it('gives one refusal for an unknown e-mail, a wrong password and a wrong code', async () => {
    await start({ loginMaxFailures: 10 });
    const secret = await localAccount();
    const wrongCode = (await totpAt(secret, s.t)) === '000000' ? '111111' : '000000';
    const answers = [
      await signIn(secret, { email: 'nobody@example.nhs.uk' }),
      await signIn(secret, { password: 'not the password at all' }),
      await signIn(secret, { code: wrongCode }),
    ];
    for (const a of answers) {
      expect(a.status).toBe(401);
      expect(a.body.error).toEqual({ code: 'unauthorized', message: 'E-mail, password or code not recognised.' });
      expect(a.cookie).toBeUndefined();
    }
  });

  it('refuses a code already used once', async () => {
    await start();
    const secret = await localAccount();
    expect((await signIn(secret)).status).toBe(200);
    expect((await signIn(secret)).status).toBe(401);
  });

  it('lets one of two sign-ins sent at once with the same code through, not both', async () => {
    await start();
    const secret = await localAccount();
    const [a, b] = await Promise.all([signIn(secret), signIn(secret)]);
    expect([a.status, b.status].sort()).toEqual([200, 401]);
  });

  it('locks the account after LOGIN_MAX_FAILURES refusals, even for the right password, until LOGIN_LOCKOUT has passed', async () => {
    await start();
    const secret = await localAccount();
    expect((await signIn(secret, { password: 'wrong password one' })).status).toBe(401);
    expect((await signIn(secret, { password: 'wrong password two' })).status).toBe(401);
    const third = await signIn(secret, { password: 'wrong password three' });
    expect(third.status).toBe(423);
    expect(third.body.error.code).toBe('account_locked');
    const right = await signIn(secret);
    expect(right.status).toBe(423);
    expect(Number(right.headers.get('retry-after'))).toBe(120);
    expect(right.cookie).toBeUndefined();
    s.t += 121_000;
    expect((await signIn(secret)).status).toBe(200);
    const types = (await s.server!.app.store.listPracticeEvents('default')).map((e) => e.type);
    expect(types).toContain('account_locked');
  });

  it('counts failures afresh after a success', async () => {
    await start();
    const secret = await localAccount();
    await signIn(secret, { password: 'wrong password one' });
    await signIn(secret, { password: 'wrong password two' });
    expect((await signIn(secret)).status).toBe(200);
    s.t += 30_000;
    await signIn(secret, { password: 'wrong password three' });
    await signIn(secret, { password: 'wrong password four' });
    s.t += 30_000;
    expect((await signIn(secret)).status).toBe(200);
  });

  it('is refused when LOCAL_SIGNIN is off', async () => {
    await start({ localSignin: false });
    const res = await call('POST', '/auth/local', { email: 'gp@example.nhs.uk', password: PASSWORD, code: '123456' });
    expect(res.status).toBe(403);
  });

  it('refuses a cookie-authenticated POST to the practice API without the CSRF token, and accepts it with', async () => {
    await start();
    const secret = await localAccount();
    const { cookie, body } = await signIn(secret);
    const create = { patientPhone: '+447700900123' };
    const without = await call('POST', '/api/v1/consultations', create, { cookie: cookie! });
    expect(without.status).toBe(403);
    expect(without.body.error.code).toBe('csrf_failed');
    const wrong = await call('POST', '/api/v1/consultations', create, { cookie: cookie!, 'x-csrf-token': 'x'.repeat(32) });
    expect(wrong.body.error.code).toBe('csrf_failed');
    const withToken = await call('POST', '/api/v1/consultations', create, { cookie: cookie!, 'x-csrf-token': body.csrfToken });
    expect(withToken.status).toBe(201);
  });

  it('ends a session idle for STAFF_SESSION_IDLE', async () => {
    await start({ staffSessionIdle: 120, staffSessionMax: 3600 });
    const secret = await localAccount();
    const { cookie } = await signIn(secret);
    s.t += 119_000;
    expect((await call('GET', '/auth/session', undefined, { cookie: cookie! })).status).toBe(200);
    s.t += 119_000; // kept alive by the last request
    expect((await call('GET', '/api/v1/consultations', undefined, { cookie: cookie! })).status).toBe(200);
    s.t += 121_000;
    expect((await call('GET', '/api/v1/consultations', undefined, { cookie: cookie! })).status).toBe(401);
  });

  it('keeps a session busy every 45 s alive at the shortest STAFF_SESSION_IDLE (60 s)', async () => {
    await start({ staffSessionIdle: 60, staffSessionMax: 3600 });
    const secret = await localAccount();
    const { cookie } = await signIn(secret);
    for (let i = 0; i < 4; i++) {
      s.t += 45_000;
      expect((await call('GET', '/api/v1/consultations', undefined, { cookie: cookie! })).status).toBe(200);
    }
  });

  it('ends a busy session at STAFF_SESSION_MAX after sign-in', async () => {
    await start({ staffSessionIdle: 120, staffSessionMax: 300 });
    const secret = await localAccount();
    const { cookie } = await signIn(secret);
    for (let i = 0; i < 5; i++) {
      s.t += 50_000;
      expect((await call('GET', '/api/v1/consultations', undefined, { cookie: cookie! })).status).toBe(200);
    }
    s.t += 50_000;
    expect((await call('GET', '/api/v1/consultations', undefined, { cookie: cookie! })).status).toBe(401);
  });

  it('signs out only with the CSRF token, and the cookie stops working', async () => {
    await start();
    const secret = await localAccount();
    const { cookie, body } = await signIn(secret);
    expect((await call('POST', '/auth/signout', undefined, { cookie: cookie! })).body.error.code).toBe('csrf_failed');
    expect((await call('GET', '/auth/session', undefined, { cookie: cookie! })).status).toBe(200);
    expect((await call('POST', '/auth/signout', undefined, { cookie: cookie!, 'x-csrf-token': body.csrfToken })).status).toBe(204);
    expect((await call('GET', '/auth/session', undefined, { cookie: cookie! })).status).toBe(401);
  });

  it('refuses sign-in for a suspended practice\'s user', async () => {
    await start();
    const secret = await localAccount();
    await s.server!.app.store.updatePractice('default', { status: 'suspended' });
    const res = await signIn(secret);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('practice_suspended');
    expect(res.cookie).toBeUndefined();
  });

  it('sends a signed-in person back to a same-origin page, never to another site', async () => {
    await start();
    const secret = await localAccount();
    expect((await call('POST', '/auth/local', { email: 'gp@example.nhs.uk', password: PASSWORD, code: await totpAt(secret, s.t), next: '/console?x=1' })).body.next).toBe('/console?x=1');
    s.t += 30_000;
    expect((await call('POST', '/auth/local', { email: 'gp@example.nhs.uk', password: PASSWORD, code: await totpAt(secret, s.t), next: '//evil.example/' })).body.next).toBe('/console');
    s.t += 30_000;
    expect((await call('POST', '/auth/local', { email: 'gp@example.nhs.uk', password: PASSWORD, code: await totpAt(secret, s.t), next: 'https://evil.example/' })).body.next).toBe('/console');
  });

  it('refuses an address after SIGNIN_REFUSALS_PER_MINUTE refused attempts, before checking anything', async () => {
    await start();
    const secret = await localAccount();
    for (let i = 0; i < SIGNIN_REFUSALS_PER_MINUTE; i++) {
      expect((await call('GET', `/api/v1/setup/${'A'.repeat(21)}${i % 10}`)).status).toBe(404);
    }
    const res = await signIn(secret);
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('rate_limited');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
