/**
 * The start of an OpenID Connect sign-in over HTTP, against a real provider on loopback: what the
 * redirect asks for (code + PKCE S256, state, nonce) and the state cookie it sets; a provider
 * that is down at start does not stop the service, and sign-in works once it is back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hashCode } from '../../../server/auth/codes.js';
import { startIdp, type TestIdp } from '../../e2e/staff/oidc-provider.js';
import { staffServer } from './staff-http.js';

const CLIENT = { client_id: 'openconsult', client_secret: 'openconsult-test-client-secret-0123456789' };
const PUBLIC_URL = 'https://vc.example.nhs.uk';
let idp: TestIdp | undefined;

afterEach(async () => {
  await idp?.close();
  idp = undefined;
});

const oidcSettings = (issuer: string) => ({
  publicUrl: PUBLIC_URL, oidcIssuer: issuer, oidcClientId: CLIENT.client_id, oidcClientSecret: CLIENT.client_secret,
});

describe('OpenID Connect sign-in start', () => {
  it('starts while the provider is down, says so at sign-in, and works once the provider is back', async () => {
    idp = await startIdp(); // answers 503 until it serves
    await staffServer.start(oidcSettings(idp.url));
    const down = await staffServer.call('GET', '/auth/oidc/start');
    expect(down.status).toBe(303);
    expect(down.headers.get('location')).toBe('/signin?error=unavailable');
    idp.serve([CLIENT], `${PUBLIC_URL}/auth/oidc/callback`);
    const up = await staffServer.call('GET', '/auth/oidc/start');
    expect(up.status).toBe(303);
    expect(up.headers.get('location')?.startsWith(idp.url)).toBe(true);
  });

  it('asks for a code with PKCE (S256), state and nonce, and keeps them in a Secure, httpOnly, Lax cookie for /auth/oidc only', async () => {
    idp = await startIdp();
    idp.serve([CLIENT], `${PUBLIC_URL}/auth/oidc/callback`);
    await staffServer.start(oidcSettings(idp.url));
    const res = await fetch(`${staffServer.base()}/auth/oidc/start?next=%2Fconsole`, { redirect: 'manual' });
    const to = new URL(res.headers.get('location')!);
    expect(Object.fromEntries(['response_type', 'client_id', 'redirect_uri', 'code_challenge_method', 'scope'].map((k) => [k, to.searchParams.get(k)]))).toEqual({
      response_type: 'code', client_id: CLIENT.client_id, redirect_uri: `${PUBLIC_URL}/auth/oidc/callback`, code_challenge_method: 'S256', scope: 'openid email profile',
    });
    for (const k of ['code_challenge', 'state', 'nonce']) expect(to.searchParams.get(k)).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const cookie = res.headers.getSetCookie().find((c) => c.includes('oc_oidc=')) ?? '';
    // __Secure- (not __Host-, which a browser refuses with any path but /).
    expect(cookie.startsWith('__Secure-oc_oidc=')).toBe(true);
    expect(cookie).toMatch(/; Path=\/auth\/oidc/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Lax/);
  });

  it('sends a used set-up link back to the sign-in page with why, not to the provider', async () => {
    idp = await startIdp();
    idp.serve([CLIENT], `${PUBLIC_URL}/auth/oidc/callback`);
    const server = await staffServer.start(oidcSettings(idp.url));
    const inv = await server.app.people.invite('default', { email: 'gp@example.nhs.uk', displayName: 'Dr A', roles: ['clinician'] }, 'operator');
    await server.app.store.takeSetupLink(hashCode(inv.setupCode), staffServer.t);
    const res = await staffServer.call('GET', `/auth/oidc/start?setup=${inv.setupCode}`);
    expect(res.headers.get('location')).toBe('/signin?error=link_used');
  });
});
