/**
 * The set-up and sign-in pages in Chromium with local accounts: a first admin sets up their
 * account from the first-start link (name, e-mail, password, the authenticator's key as text)
 * and lands on the console; signed out, they sign in on /signin. Errors appear in the summary
 * and beside their fields; a used link gets a clear page. Axe checks each state.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { totpAt } from '../../../server/staff/totp.js';
import { allowAxe, expectAccessible } from '../../helpers/axe.js';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../../helpers/browser.js';
import { startServer, type TestServer } from '../../helpers/server.js';

let server: TestServer;
const screenshots = path.resolve('test-artifacts', 'screenshots');
/** Saved for review (test-artifacts/ is not committed). */
const shoot = (page: Page, name: string) => page.screenshot({ path: path.join(screenshots, `staff-${name}.png`), fullPage: true });
/** Moved on by each use of a code, so no code is refused as replayed. */
let t = Date.UTC(2026, 10, 30, 9, 0, 15);

beforeAll(async () => {
  server = await startServer({}, { now: () => t });
  await mkdir(screenshots, { recursive: true });
});
afterEach(async () => {
  await closeParticipants();
});
afterAll(async () => {
  await server?.close();
});

const PASSWORD = 'a long admin password';

async function fill(page: Page, id: string, text: string): Promise<void> {
  await page.$eval(`#${id}`, (e) => { (e as HTMLInputElement).value = ''; });
  await page.type(`#${id}`, text);
}

describe('set-up and sign-in pages', () => {
  it('sets up the first admin from the first-start link, signs out, signs in again, and explains a used link', async () => {
    const setupUrl = server.app.firstAdminSetupUrl();
    expect(setupUrl).toBeDefined();
    const page = await openParticipant();
    await allowAxe(page);
    await page.goto(setupUrl!);
    await page.waitForSelector('#local-form', { visible: true });
    await expectAccessible(page, 'set-up page for a first admin');

    await clickButton(page, 'Set up account');
    await waitForText(page, 'There is a problem');
    expect(await page.$eval('#password', (e) => e.getAttribute('aria-invalid'))).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('error-summary');
    await expectAccessible(page, 'set-up page with errors');
    await shoot(page, 'setup-errors');

    const secret = (await page.$eval('#totp-secret', (e) => e.textContent ?? '')).replace(/\s/g, '');
    expect(await page.$eval('#totp-qr', (e) => (e as HTMLImageElement).src)).toMatch(/^data:image\/svg\+xml;base64,/);
    await fill(page, 'display-name', 'Pat Admin');
    await fill(page, 'email', 'pat.admin@example.nhs.uk');
    await fill(page, 'password', PASSWORD);
    await fill(page, 'code', await totpAt(secret, t));
    await Promise.all([page.waitForNavigation(), clickButton(page, 'Set up account')]);
    expect(new URL(page.url()).pathname).toBe('/console');
    t += 30_000;

    const csrf = await page.evaluate(async () => ((await (await fetch('/auth/session')).json()) as { csrfToken: string }).csrfToken);
    expect(await page.evaluate(async (token) => (await fetch('/auth/signout', { method: 'POST', headers: { 'x-csrf-token': token } })).status, csrf)).toBe(204);

    await page.goto(setupUrl!);
    await waitForText(page, 'already been used');
    expect(await page.$eval('h1', (e) => e.textContent)).toBe('This link cannot be used');
    await expectAccessible(page, 'set-up page for a used link');

    await page.goto(`${server.url}/signin`);
    await page.waitForSelector('#local-form', { visible: true });
    expect(await page.$('#oidc:not([hidden])')).toBeNull();
    await expectAccessible(page, 'sign-in page, local accounts only');
    await fill(page, 'email', 'pat.admin@example.nhs.uk');
    await fill(page, 'password', 'not the right password');
    await fill(page, 'code', await totpAt(secret, t));
    await clickButton(page, 'Sign in');
    await waitForText(page, 'E-mail, password or code not recognised');
    await expectAccessible(page, 'sign-in page after a refusal');
    await shoot(page, 'signin-refused');

    await fill(page, 'password', PASSWORD);
    await fill(page, 'code', await totpAt(secret, t));
    await Promise.all([page.waitForNavigation(), clickButton(page, 'Sign in')]);
    expect(new URL(page.url()).pathname).toBe('/console');
    expect((await server.app.store.findUserByEmail('pat.admin@example.nhs.uk'))?.roles).toEqual(['admin']);
  });
});
