/** Set-up links over HTTP against the real server: looked at without being used, used once, refused clearly after. */
import { afterEach, describe, expect, it } from 'vitest';
import { totpAt } from '../../../server/staff/totp.js';
import { startServer, type TestServer } from '../../helpers/server.js';

const PASSWORD = 'a long staff password';
let server: TestServer | undefined;
let t = Date.UTC(2026, 10, 30, 9, 0, 15);

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function call(method: string, route: string, body?: unknown): Promise<{ status: number; body: any; cookie: boolean }> {
  const res = await fetch(`${server?.url}${route}`, {
    method, headers: body !== undefined ? { 'content-type': 'application/json' } : {}, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, cookie: res.headers.getSetCookie().some((c) => c.startsWith('oc_staff=')) };
}

async function start(): Promise<TestServer> {
  t = Date.UTC(2026, 10, 30, 9, 0, 15);
  server = await startServer({ setupLinkTtl: 3600 }, { now: () => t });
  return server;
}

const invite = async () => (await server!.app.people.invite('default', { email: 'nurse@example.nhs.uk', displayName: 'Sam Lee', roles: ['clinician'] }, 'operator')).setupCode;

describe('set-up links', () => {
  it('serves the page and its details without using the link', async () => {
    await start();
    const code = await invite();
    const page = await fetch(`${server!.url}/setup/${code}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>');
    const a = await call('GET', `/api/v1/setup/${code}`);
    const b = await call('GET', `/api/v1/setup/${code}`);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body).toMatchObject({ displayName: 'Sam Lee', needsIdentity: false, oidc: null });
    expect(a.body.local.uri).toMatch(/^otpauth:\/\/totp\//);
    expect(a.body.local.qrSvg).toContain('<svg');
  });

  it('sets up a local account once: signed in, active; the link then answers 410 link_used', async () => {
    await start();
    const code = await invite();
    const { body: info } = await call('GET', `/api/v1/setup/${code}`);
    const body = { password: PASSWORD, totpSecret: info.local.secret, code: await totpAt(info.local.secret, t) };
    const done = await call('POST', `/api/v1/setup/${code}`, body);
    expect(done.status).toBe(200);
    expect(done.cookie).toBe(true);
    const user = await server!.app.store.findUserByEmail('nurse@example.nhs.uk');
    expect(user?.status).toBe('active');
    expect(user?.passwordHash).toMatch(/^scrypt\$/);
    const again = await call('POST', `/api/v1/setup/${code}`, body);
    expect(again.status).toBe(410);
    expect(again.body.error.code).toBe('link_used');
    expect((await call('GET', `/api/v1/setup/${code}`)).body.error.code).toBe('link_used');
  });

  it('uses nothing up when the password is too short or the code wrong', async () => {
    await start();
    const code = await invite();
    const { body: info } = await call('GET', `/api/v1/setup/${code}`);
    const short = await call('POST', `/api/v1/setup/${code}`, { password: 'too short', totpSecret: info.local.secret, code: await totpAt(info.local.secret, t) });
    expect(short.status).toBe(400);
    expect(short.body.error.message).toMatch(/at least 12/);
    const wrongCode = (await totpAt(info.local.secret, t)) === '000000' ? '111111' : '000000';
    const wrong = await call('POST', `/api/v1/setup/${code}`, { password: PASSWORD, totpSecret: info.local.secret, code: wrongCode });
    expect(wrong.status).toBe(400);
    expect((await call('GET', `/api/v1/setup/${code}`)).status).toBe(200);
  });

  it('answers 410 link_expired past its time and 404 link_not_found for a code that is not one', async () => {
    await start();
    const code = await invite();
    t += 3601_000;
    expect((await call('GET', `/api/v1/setup/${code}`)).body.error.code).toBe('link_expired');
    expect((await call('GET', '/api/v1/setup/AAAAAAAAAAAAAAAAAAAAAA')).status).toBe(404);
    expect((await call('GET', '/api/v1/setup/not-a-code')).body.error.code).toBe('link_not_found');
  });

  it('asks the first admin for their own name and e-mail, and keeps them', async () => {
    await start();
    const url = server!.app.firstAdminSetupUrl();
    const code = url!.slice(url!.lastIndexOf('/') + 1);
    const { body: info } = await call('GET', `/api/v1/setup/${code}`);
    expect(info.needsIdentity).toBe(true);
    const base = { password: PASSWORD, totpSecret: info.local.secret, code: await totpAt(info.local.secret, t) };
    expect((await call('POST', `/api/v1/setup/${code}`, base)).status).toBe(400);
    const done = await call('POST', `/api/v1/setup/${code}`, { ...base, displayName: 'Pat Admin', email: 'pat.admin@example.nhs.uk' });
    expect(done.status).toBe(200);
    const admin = await server!.app.store.findUserByEmail('pat.admin@example.nhs.uk');
    expect(admin).toMatchObject({ displayName: 'Pat Admin', status: 'active', roles: ['admin'] });
  });
});
