/** Set-up links over HTTP against the real server: looked at without being used, used once, refused clearly after. */
import { describe, expect, it } from 'vitest';
import { totpAt } from '../../../server/staff/totp.js';
import { PASSWORD, staffServer } from './staff-http.js';

const s = staffServer;
const call = (method: string, route: string, body?: unknown) => s.call(method, route, body);
const start = () => s.start({ setupLinkTtl: 3600 });

const invite = async () => (await s.server!.app.people.invite('default', { email: 'nurse@example.nhs.uk', displayName: 'Sam Lee', roles: ['clinician'] }, 'operator')).setupCode;

describe('set-up links', () => {
  it('serves the page and its details without using the link', async () => {
    await start();
    const code = await invite();
    const page = await fetch(`${s.server!.url}/setup/${code}`);
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
    const body = { password: PASSWORD, totpSecret: info.local.secret, code: await totpAt(info.local.secret, s.t) };
    const done = await call('POST', `/api/v1/setup/${code}`, body);
    expect(done.status).toBe(200);
    expect(done.cookie).toBeDefined();
    const user = await s.server!.app.store.findUserByEmail('nurse@example.nhs.uk');
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
    const short = await call('POST', `/api/v1/setup/${code}`, { password: 'too short', totpSecret: info.local.secret, code: await totpAt(info.local.secret, s.t) });
    expect(short.status).toBe(400);
    expect(short.body.error.message).toMatch(/at least 12/);
    const wrongCode = (await totpAt(info.local.secret, s.t)) === '000000' ? '111111' : '000000';
    const wrong = await call('POST', `/api/v1/setup/${code}`, { password: PASSWORD, totpSecret: info.local.secret, code: wrongCode });
    expect(wrong.status).toBe(400);
    expect((await call('GET', `/api/v1/setup/${code}`)).status).toBe(200);
  });

  it('answers 410 link_expired past its time and 404 link_not_found for a code that is not one', async () => {
    await start();
    const code = await invite();
    s.t += 3601_000;
    expect((await call('GET', `/api/v1/setup/${code}`)).body.error.code).toBe('link_expired');
    expect((await call('GET', '/api/v1/setup/AAAAAAAAAAAAAAAAAAAAAA')).status).toBe(404);
    expect((await call('GET', '/api/v1/setup/not-a-code')).body.error.code).toBe('link_not_found');
  });

  it('asks the first admin for their own name and e-mail, and keeps them', async () => {
    await start();
    const url = s.server!.app.firstAdminSetupUrl();
    const code = url!.slice(url!.lastIndexOf('/') + 1);
    const { body: info } = await call('GET', `/api/v1/setup/${code}`);
    expect(info.needsIdentity).toBe(true);
    const base = { password: PASSWORD, totpSecret: info.local.secret, code: await totpAt(info.local.secret, s.t) };
    expect((await call('POST', `/api/v1/setup/${code}`, base)).status).toBe(400);
    const done = await call('POST', `/api/v1/setup/${code}`, { ...base, displayName: 'Pat Admin', email: 'pat.admin@example.nhs.uk' });
    expect(done.status).toBe(200);
    const admin = await s.server!.app.store.findUserByEmail('pat.admin@example.nhs.uk');
    expect(admin).toMatchObject({ displayName: 'Pat Admin', status: 'active', roles: ['admin'] });
  });
});
