/**
 * Staff sign-in with OpenID Connect against a real provider on loopback (oidc-provider), driven
 * through the real redirects in Chromium: an invited person ends signed in on /console; someone
 * not invited is told to ask their admin; a set-up link binds the provider's account. Refusals:
 * a wrong state, a replayed code, a code issued to another client, an expired ID token.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allowAxe, expectAccessible } from '../../helpers/axe.js';
import { closeParticipants, openParticipant, waitForText } from '../../helpers/browser.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { waitUntil } from '../../helpers/wait.js';
import { startIdp, type TestIdp } from './oidc-provider.js';

const CLIENT = { client_id: 'openconsult', client_secret: 'openconsult-test-client-secret-0123456789' };
const OTHER = { client_id: 'another-service', client_secret: 'another-service-client-secret-0123456789' };

let idp: TestIdp;
let server: TestServer;
let callbackUrl: string;

beforeAll(async () => {
  idp = await startIdp();
  server = await startServer({
    oidcIssuer: idp.url, oidcClientId: CLIENT.client_id, oidcClientSecret: CLIENT.client_secret, oidcName: 'Test IdP',
  });
  callbackUrl = `${server.url}/auth/oidc/callback`;
  idp.serve([CLIENT, OTHER], callbackUrl);
});

afterEach(async () => {
  idp.issueExpired = false;
  await closeParticipants();
});

afterAll(async () => {
  await server?.close();
  await idp?.close();
});

let people = 0;
/** An invited clinician and the provider's account (`sub`) with their verified e-mail. */
async function invitedAtIdp(emailVerified = true): Promise<{ sub: string; email: string; setupCode: string }> {
  const n = ++people;
  const email = `gp${n}@example.nhs.uk`;
  const inv = await server.app.people.invite('default', { email, displayName: `Dr Number ${n}`, roles: ['clinician'] }, 'operator');
  const sub = `idp-subject-${n}`;
  idp.accounts.set(sub, { email, email_verified: emailVerified, name: `Dr Number ${n}` });
  return { sub, email, setupCode: inv.setupCode };
}

/** Signs in at the provider's development pages: any password, then consent. */
async function loginAtIdp(page: Page, sub: string): Promise<void> {
  await page.waitForSelector('input[name="login"]');
  await page.type('input[name="login"]', sub);
  await page.type('input[name="password"]', 'any password');
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  await page.waitForSelector('button[type="submit"]');
  await page.click('button[type="submit"]');
}

const path = (page: Page) => new URL(page.url()).pathname;

async function waitForPath(page: Page, want: string): Promise<void> {
  await waitUntil(page, (p: string) => location.pathname === p, { timeout: 15_000 }, want);
}

/** Stops the browser at the provider's redirect back to us: the callback URL it carried. */
async function interceptCallback(page: Page): Promise<{ url: Promise<string> }> {
  await page.setRequestInterception(true);
  // Wrapped: an async function returning a bare promise would wait for it.
  return {
    url: new Promise((resolve) => {
      page.on('request', (req) => {
        if (req.url().startsWith(callbackUrl)) {
          resolve(req.url());
          void req.abort();
        } else void req.continue();
      });
    }),
  };
}

/** The callback requested from outside the browser, with the browser's state cookie. */
async function callback(page: Page, url: string): Promise<{ location: string; signedIn: boolean }> {
  const cookies = await page.browserContext().cookies();
  const header = cookies.filter((c) => c.name === 'oc_oidc').map((c) => `${c.name}=${c.value}`).join('; ');
  const res = await fetch(url, { redirect: 'manual', headers: { cookie: header } });
  return { location: res.headers.get('location') ?? '', signedIn: res.headers.getSetCookie().some((c) => c.startsWith('oc_staff=')) };
}

describe('staff sign-in with OpenID Connect', () => {
  it('signs an invited person in through the provider and lands them on the console, their account bound', async () => {
    const { sub, email } = await invitedAtIdp();
    const page = await openParticipant();
    await allowAxe(page);
    await page.goto(`${server.url}/signin`);
    await page.waitForSelector('#oidc-start', { visible: true });
    await expectAccessible(page, 'sign-in page with the provider and a local account');
    expect(await page.$eval('#oidc-start', (a) => a.textContent)).toBe('Sign in with Test IdP');
    await Promise.all([page.waitForNavigation(), page.click('#oidc-start')]);
    expect(page.url().startsWith(idp.url)).toBe(true);
    await loginAtIdp(page, sub);
    await waitForPath(page, '/console');
    const me = await page.evaluate(async () => (await fetch('/auth/session')).json());
    expect(me.displayName).toMatch(/^Dr Number/);
    const user = await server.app.store.findUserByEmail(email);
    expect(user).toMatchObject({ oidcSubject: sub, status: 'active' });
  });

  it('tells someone the provider knows but nobody invited to ask their practice\'s admin', async () => {
    idp.accounts.set('stranger', { email: 'stranger@example.nhs.uk', email_verified: true });
    const page = await openParticipant();
    await page.goto(`${server.url}/auth/oidc/start`);
    await loginAtIdp(page, 'stranger');
    await waitForText(page, 'Ask your practice\'s admin to invite you');
    expect(path(page)).toBe('/signin');
  });

  it('does not match by an e-mail the provider has not verified; a set-up link binds the account instead', async () => {
    const { sub, email, setupCode } = await invitedAtIdp(false);
    const page = await openParticipant();
    await page.goto(`${server.url}/auth/oidc/start`);
    await loginAtIdp(page, sub);
    await waitForText(page, 'invite you');
    await allowAxe(page);
    await page.goto(`${server.url}/setup/${setupCode}`);
    await page.waitForSelector('#oidc-start', { visible: true });
    await expectAccessible(page, 'set-up page with the provider and a local account');
    await Promise.all([page.waitForNavigation(), page.click('#oidc-start')]);
    // Still signed in at the provider: it asks only for consent again, or not at all.
    await waitUntil(page, (_: string) => location.pathname === '/console' || document.querySelector('button[type="submit"]') !== null, { timeout: 15_000 }, '');
    if (path(page) !== '/console') {
      await page.click('button[type="submit"]');
      await waitForPath(page, '/console');
    }
    expect(await server.app.store.findUserByEmail(email)).toMatchObject({ oidcSubject: sub, status: 'active' });
  });

  it('refuses a callback whose state is not the one it sent, then takes the right one once: a replayed code is refused', async () => {
    const { sub } = await invitedAtIdp();
    const page = await openParticipant();
    const back = await interceptCallback(page);
    await page.goto(`${server.url}/auth/oidc/start`);
    await loginAtIdp(page, sub);
    const url = new URL(await back.url);
    const forged = new URL(url);
    forged.searchParams.set('state', 'a-state-this-service-never-sent');
    expect(await callback(page, forged.href)).toEqual({ location: '/signin?error=refused', signedIn: false });
    expect(await callback(page, url.href)).toEqual({ location: '/console', signedIn: true });
    expect(await callback(page, url.href)).toEqual({ location: '/signin?error=refused', signedIn: false });
  });

  it('refuses a code the provider issued to another client', async () => {
    const { sub } = await invitedAtIdp();
    const page = await openParticipant();
    const start = await fetch(`${server.url}/auth/oidc/start`, { redirect: 'manual' });
    const state = start.headers.getSetCookie().find((c) => c.startsWith('oc_oidc='))!.split(';')[0]!;
    const authorise = new URL(start.headers.get('location')!);
    authorise.searchParams.set('client_id', OTHER.client_id);
    await page.setCookie({ name: 'oc_oidc', value: state.slice('oc_oidc='.length), url: `${server.url}/auth/oidc` });
    const back = await interceptCallback(page);
    await page.goto(authorise.href);
    await loginAtIdp(page, sub);
    expect(await callback(page, await back.url)).toEqual({ location: '/signin?error=refused', signedIn: false });
  });

  it('refuses an expired ID token', async () => {
    const { sub } = await invitedAtIdp();
    idp.issueExpired = true;
    const page = await openParticipant();
    await page.goto(`${server.url}/auth/oidc/start`);
    await loginAtIdp(page, sub);
    await waitForText(page, 'Your sign-in did not complete');
    expect(path(page)).toBe('/signin');
    expect((await page.browserContext().cookies()).some((c) => c.name === 'oc_staff')).toBe(false);
  });
});
