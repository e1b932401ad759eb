/**
 * The admin page (/admin) in real Chromium against the real server, for a signed-in practice
 * admin (test/helpers/staff.ts: a session as a sign-in leaves it; the sign-in itself is tested
 * on its own): invite a person (the set-up link shown once), create an API key (shown once, works
 * at once), rotate it (a new key; the old one works on through the grace), revoke it with a
 * confirmation step (refused at once), see the changes listed; no axe
 * violations in any of those states. Someone who is not an admin is told so; nobody signed in
 * goes to the sign-in page.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allowAxe, expectAccessible } from '../../helpers/axe.js';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../../helpers/browser.js';
import { type TestServer, startServer } from '../../helpers/server.js';
import { type Staff, signInPage, signedIn } from '../../helpers/staff.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterEach(async () => {
  await closeParticipants();
});

afterAll(async () => {
  await server?.close();
});

async function openAdmin(staff?: Staff): Promise<Page> {
  const page = await openParticipant();
  await allowAxe(page);
  if (staff) await signInPage(page, server, staff);
  await page.goto(`${server.url}/admin`);
  return page;
}

const rowOf = (page: Page, body: string, text: string) => page.waitForFunction(
  (b: string, t: string) => [...document.querySelectorAll(`#${b} tr`)].find((tr) => tr.textContent?.includes(t)),
  { timeout: 10_000 }, body, text,
);

describe('the admin page', () => {
  it('invites a person, creates a key that works at once, rotates it, revokes the new one after a confirmation, lists the changes', async () => {
    const admin = await signedIn(server, { roles: ['admin'], displayName: 'Ada Admin' });
    const page = await openAdmin(admin);
    await page.waitForSelector('#view-admin:not([hidden])');
    await waitForText(page, 'Ada Admin (you)');
    await expectAccessible(page, 'admin page');

    // Invite: the roles are required; the set-up link is shown once, with a copy button.
    await page.type('#invite-name', 'Nina Nurse');
    await page.type('#invite-email', 'nina.nurse@example.nhs.uk');
    await clickButton(page, 'Invite');
    await waitForText(page, 'Choose at least one role.');
    await page.click('#invite-role-clinician');
    await clickButton(page, 'Invite');
    await page.waitForSelector('#setup-shown:not([hidden])');
    const setupUrl = await page.$eval('#setup-url', (e) => (e as HTMLInputElement).value);
    expect(setupUrl).toMatch(/\/setup\/[A-Za-z0-9_-]{22,}$/);
    await waitForText(page, 'This link is shown only once.');
    expect(await page.$eval('#setup-copy', (b) => b.textContent)).toBe('Copy link');
    await rowOf(page, 'people-body', 'nina.nurse@example.nhs.uk');
    const nina = (await server.app.store.findUserByEmail('nina.nurse@example.nhs.uk'))!;
    expect(nina).toMatchObject({ displayName: 'Nina Nurse', roles: ['clinician'], status: 'invited' });
    expect(await page.$eval(`#people-body tr[data-id="${nina.id}"]`, (tr) => tr.textContent)).toContain('Invited');
    await expectAccessible(page, 'admin page: set-up link shown');

    // Roles from the row's checkboxes.
    await page.click(`#role-${nina.id}-receptionist`);
    await page.click(`#people-body tr[data-id="${nina.id}"] .admin-save-roles`);
    await waitForText(page, 'Roles of Nina Nurse saved.');
    expect((await server.app.store.getUser(nina.id))?.roles).toEqual(['clinician', 'receptionist']);

    // A key: shown once, works at once.
    await page.type('#key-name', 'EMIS integration');
    await clickButton(page, 'Create key');
    await page.waitForSelector('#key-shown:not([hidden])');
    const key = await page.$eval('#key-secret', (e) => (e as HTMLInputElement).value);
    expect(key).toMatch(/^ock_/);
    expect((await server.api('GET', '/api/v1/consultations', undefined, key)).status).toBe(200);
    await rowOf(page, 'keys-body', 'EMIS integration');
    await expectAccessible(page, 'admin page: key shown');

    // Rotate: a new key shown once; the old one keeps working through the grace.
    const first = (await server.app.store.listApiKeys('default')).find((k) => k.name === 'EMIS integration')!.id;
    await page.click(`#keys-body tr[data-id="${first}"] .admin-rotate`);
    await page.waitForFunction((old: string) => {
      const v = (document.getElementById('key-secret') as HTMLInputElement).value;
      return v.startsWith('ock_') && v !== old;
    }, {}, key);
    await waitForText(page, 'The old key works until');
    const rotated = await page.$eval('#key-secret', (e) => (e as HTMLInputElement).value);
    expect((await server.api('GET', '/api/v1/consultations', undefined, rotated)).status).toBe(200);
    expect((await server.api('GET', '/api/v1/consultations', undefined, key)).status).toBe(200);
    await page.waitForFunction((sel: string) => document.querySelector(sel)?.textContent?.includes('Replaced: works until'), {}, `#keys-body tr[data-id="${first}"]`);

    // Revoke (the replacement) asks first; Cancel keeps the key.
    const id = (await server.app.store.listApiKeys('default')).find((k) => k.name === 'EMIS integration' && k.id !== first)!.id;
    const row = `#keys-body tr[data-id="${id}"]`;
    await page.click(`${row} .admin-revoke`);
    await waitForText(page, 'The practice system using it stops working at once.');
    await expectAccessible(page, 'admin page: revoke confirmation');
    await clickButton(page, 'Cancel');
    expect(await page.$eval(`${row} .admin-revoke`, (b) => (b as HTMLElement).hidden)).toBe(false);
    expect((await server.api('GET', '/api/v1/consultations', undefined, rotated)).status).toBe(200);
    await page.click(`${row} .admin-revoke`);
    await page.click(`${row} .admin-revoke-confirm`);
    await waitForText(page, 'The key "EMIS integration" is revoked');
    await page.waitForFunction((sel: string) => document.querySelector(sel)?.textContent?.includes('Revoked'), {}, row);
    expect((await server.api('GET', '/api/v1/consultations', undefined, rotated)).status).toBe(401);

    // The changes, with the names the page knows put back (the log itself holds ids only).
    await waitForText(page, 'Ada Admin');
    const events = await page.$eval('#events-body', (e) => (e as HTMLElement).innerText);
    expect(events).toContain('revoked the API key "EMIS integration"');
    expect(events).toContain('created the API key "EMIS integration"');
    expect(events).toContain('replaced the API key "EMIS integration"');
    expect(events).toContain('invited Nina Nurse');
    await expectAccessible(page, 'admin page: after changes');
  });

  it('tells someone who is not an admin, and sends someone not signed in to sign in', async () => {
    const clinician = await signedIn(server, { roles: ['clinician'], displayName: 'Dr Bell' });
    const page = await openAdmin(clinician);
    await waitForText(page, 'Only your practice\'s admins can manage its people and keys.');
    expect(await page.$eval('#view-admin', (e) => (e as HTMLElement).hidden)).toBe(true);
    await expectAccessible(page, 'admin page: not an admin');

    const anon = await openAdmin();
    await anon.waitForFunction(() => location.pathname === '/signin', { polling: 100 });
    expect(new URL(anon.url()).searchParams.get('next')).toBe('/admin');
  });
});
