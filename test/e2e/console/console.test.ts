/**
 * The console (/console) in real Chromium against the real server, for a signed-in clinician
 * (test/helpers/staff.ts: a session as a sign-in leaves it; the sign-in itself is tested on its
 * own): create a consultation from the form, find it in "My consultations", watch its status
 * live while the patient (on a phone, in a browser of their own) joins and waits, get alerted,
 * press Join (the call opens in a new tab, where the patient sees the clinician's name), admit,
 * end; re-send a link and end from the console; a receptionist gets no Join or End; a page
 * whose sign-in is over goes to the sign-in page.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashCode } from '../../../server/auth/codes.js';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../../helpers/browser.js';
import { type TestServer, linkIn, startServer } from '../../helpers/server.js';
import { type Staff, signInPage, signedIn } from '../../helpers/staff.js';

const artifacts = path.resolve('test-artifacts');
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
  await mkdir(artifacts, { recursive: true });
});

afterEach(async () => {
  await closeParticipants();
});

afterAll(async () => {
  await server?.close();
});

async function typeInto(page: Page, selector: string, text: string): Promise<void> {
  await page.$eval(selector, (e) => { (e as HTMLInputElement).value = ''; });
  await page.type(selector, text);
}

/** The console of a person signed in on a browser of their own. */
async function openConsole(staff: Staff): Promise<Page> {
  const page = await openParticipant();
  await signInPage(page, server, staff);
  await page.goto(`${server.url}/console`);
  await page.waitForSelector('#view-console:not([hidden])');
  return page;
}

/** Fills in the form and sends it; resolves to the new consultation's id once the console says so. */
async function createFromForm(page: Page, phone: string, name: string): Promise<string> {
  const before = (await server.outbox()).length;
  await typeInto(page, '#patient-phone', phone);
  await typeInto(page, '#patient-name', name);
  await clickButton(page, 'Send link to patient');
  await waitForText(page, `Link sent to ${name}`);
  const outbox = await server.outbox();
  expect(outbox).toHaveLength(before + 1);
  return outbox[before]!.consultationId;
}

function rowStatus(page: Page, id: string): Promise<string> {
  return page.$eval(`tr[data-id="${id}"] .console-badge`, (e) => e.textContent ?? '');
}

async function waitForStatus(page: Page, id: string, start: string, timeout = 15_000): Promise<void> {
  await page.waitForFunction(
    (sel: string, s: string) => (document.querySelector(sel)?.textContent ?? '').startsWith(s),
    // Polled on a timer: once the video page opens, the console is a background tab without animation frames.
    { timeout, polling: 100 },
    `tr[data-id="${id}"] .console-badge`, start,
  );
}

/** The page (a new tab of the console's browser) that a Join opened: the clinician's link. */
async function joinedTab(consolePage: Page, press: () => Promise<void>): Promise<Page> {
  const browser = consolePage.browser();
  const opened = browser.waitForTarget((t) => /\/j\/[A-Za-z0-9_-]{22}$/.test(t.url()));
  await press();
  return (await (await opened).page())!;
}

describe('the clinician console', () => {
  it('shows who is signed in, creates a consultation into "My consultations", alerts when the patient waits, joins in a new tab, follows it to the end', async () => {
    const clinician = await signedIn(server, { roles: ['clinician'], displayName: 'Dr Bell' });
    const consolePage = await openConsole(clinician);
    expect(await consolePage.$eval('#who-name', (e) => e.textContent)).toMatch(/^Dr Bell, /);
    await waitForText(consolePage, "Today's video consultations");
    // Nothing secret in the page's storage: the sign-in is an httpOnly cookie.
    expect(await consolePage.evaluate(() => JSON.stringify(sessionStorage))).not.toContain(clinician.sessionId);
    expect(await consolePage.evaluate(() => document.cookie)).toBe('');
    expect(await consolePage.$('#api-key')).toBeNull();
    // A clinician's list is their own by default; the form carries their name; no admin link.
    expect(await consolePage.$eval('#owner-me', (e) => (e as HTMLInputElement).checked)).toBe(true);
    expect(await consolePage.$eval('#clinician-name', (e) => (e as HTMLInputElement).value)).toBe('Dr Bell');
    expect(await consolePage.$eval('#admin-link', (e) => (e as HTMLElement).hidden)).toBe(true);

    // Someone else's consultation is in "Everyone's", not in "My consultations".
    const others = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900999', patientName: 'Other Patient' });
    const id = await createFromForm(consolePage, '07700 900123', 'Ann Example');
    await waitForStatus(consolePage, id, 'Link sent');
    expect(await consolePage.$(`tr[data-id="${others.body.id}"]`)).toBeNull();
    const clinicianUrl = await consolePage.$eval('#created-url', (e) => (e as HTMLInputElement).value);
    expect(clinicianUrl).toMatch(/\/j\/[A-Za-z0-9_-]+$/);
    expect(await consolePage.$eval('#created-open', (a) => [a.textContent, (a as HTMLAnchorElement).href]))
      .toEqual(['Open video with Ann Example', clinicianUrl]);
    expect(await consolePage.$eval(`tr[data-id="${id}"] .console-join`, (b) => b.textContent)).toBe('Join video consultation with Ann Example');
    await consolePage.click('#owner-everyone');
    await consolePage.waitForSelector(`tr[data-id="${others.body.id}"]`);
    await consolePage.click('#owner-me');
    await consolePage.waitForFunction((other: string) => !document.querySelector(`tr[data-id="${other}"]`), {}, others.body.id);

    // Polls update the row in place: the button the clinician is on keeps its focus.
    await consolePage.$eval(`tr[data-id="${id}"] .console-end`, (b) => { (b as HTMLElement).dataset.mark = 'focused'; (b as HTMLElement).focus(); });

    const patient = await openParticipant({ phone: true });
    const sms = (await server.outbox()).find((m) => m.consultationId === id)!;
    await patient.goto(linkIn(sms.body));
    await waitForText(patient, 'Check your camera and microphone');
    await patient.waitForFunction(() => (document.getElementById('check-video') as HTMLVideoElement).videoWidth > 0);
    await clickButton(patient, 'Join');
    await waitForText(patient, 'You are in the waiting room');

    await waitForStatus(consolePage, id, 'Waiting since');
    expect(await rowStatus(consolePage, id)).toMatch(/^Waiting since \d\d:\d\d \((under 1|\d+) min\)$/);
    await waitForText(consolePage, 'Ann Example is waiting');
    expect(await consolePage.$eval('#waiting-alert', (e) => e.getAttribute('role'))).toBe('alert');
    await consolePage.waitForFunction(() => document.title.startsWith('(1) waiting'));
    expect(await consolePage.title()).toBe('(1) waiting – Video consultations');
    await consolePage.waitForFunction(() => window.openconsultConsole.tones() >= 1);
    expect(await consolePage.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.mark)).toBe('focused');
    await consolePage.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());

    await consolePage.screenshot({ path: path.join(artifacts, 'console-waiting-1280x800.png') });
    // (isMobile or hasTouch would make puppeteer reload the page.)
    await consolePage.setViewport({ width: 360, height: 740, deviceScaleFactor: 2 });
    await consolePage.screenshot({ path: path.join(artifacts, 'console-waiting-360x740.png') });
    await consolePage.screenshot({ path: path.join(artifacts, 'console-waiting-360-full.png'), fullPage: true });
    // At phone width nothing overflows sideways.
    expect(await consolePage.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await consolePage.setViewport({ width: 1280, height: 800 });

    // The clinician joins from the console: the call opens in a new tab of the same browser, no second link needed.
    const video = await joinedTab(consolePage, () => consolePage.click(`tr[data-id="${id}"] .console-join`));
    await clickButton(video, 'Join');
    await waitForText(video, 'Ann Example is waiting');
    await clickButton(video, 'Admit');
    await waitForText(patient, 'Dr Bell is in the call');

    await waitForStatus(consolePage, id, 'In call');
    await consolePage.waitForFunction(() => document.title === 'Video consultations', { polling: 100 });
    expect(await consolePage.$eval('#waiting-alert', (e) => e.textContent)).toBe('');

    await clickButton(video, 'End consultation');
    await waitForStatus(consolePage, id, 'Ended');
    expect(await consolePage.$$eval(`tr[data-id="${id}"] .console-actions > :not([hidden])`, (es) => es.length)).toBe(0);
  }, 60_000);

  it('re-sends a link, shows the API\'s error next to the field, ends from the console, goes to sign in when the session ends', async () => {
    const clinician = await signedIn(server, { roles: ['clinician'], displayName: 'Dr Bell' });
    const consolePage = await openConsole(clinician);
    await waitForText(consolePage, "Today's video consultations");

    // The phone number is required; a number the service refuses gets its message beside the field.
    await clickButton(consolePage, 'Send link to patient');
    await waitForText(consolePage, "Enter the patient's mobile number.");
    await typeInto(consolePage, '#patient-phone', '01632 960001');
    await clickButton(consolePage, 'Send link to patient');
    await consolePage.waitForFunction(() => document.getElementById('patient-phone-error')?.textContent?.startsWith('Enter a UK mobile number'));
    expect(await consolePage.$eval('#patient-phone', (e) => e.getAttribute('aria-invalid'))).toBe('true');
    expect(await consolePage.$eval('#patient-phone-error', (e) => e.getAttribute('role'))).toBe('alert');

    const id = await createFromForm(consolePage, '07700 900456', 'Bob Example');
    await waitForStatus(consolePage, id, 'Link sent');

    await consolePage.click(`tr[data-id="${id}"] .console-resend`);
    await waitForText(consolePage, 'Link re-sent to Bob Example');
    expect((await server.outbox()).filter((m) => m.consultationId === id)).toHaveLength(2);
    expect(await consolePage.$eval('#console-status', (e) => e.getAttribute('role'))).toBe('status');

    consolePage.once('dialog', (d) => void d.accept());
    await consolePage.click(`tr[data-id="${id}"] .console-end`);
    await waitForStatus(consolePage, id, 'Ended');
    await waitForText(consolePage, 'The consultation with Bob Example has ended.');
    expect((await server.api('GET', `/api/v1/consultations/${id}`)).body.status).toBe('ended');

    // A session that has ended (signed out elsewhere, disabled, timed out) sends the page to sign in, to come back here.
    await server.app.store.deleteUserSessions(clinician.user.id);
    await consolePage.waitForFunction(() => location.pathname === '/signin', { polling: 100 });
    expect(new URL(consolePage.url()).searchParams.get('next')).toBe('/console');
  });

  it('offers a receptionist no Join and no End; everyone\'s list by default; changes carry the CSRF token', async () => {
    const reception = await signedIn(server, { roles: ['receptionist'], displayName: 'Rita Reception' });
    const consolePage = await openConsole(reception);
    expect(await consolePage.$eval('#owner-everyone', (e) => (e as HTMLInputElement).checked)).toBe(true);
    expect(await consolePage.$eval('#clinician-name', (e) => (e as HTMLInputElement).value)).toBe('');
    await waitForText(consolePage, "Clinician's name (optional)");
    const id = await createFromForm(consolePage, '07700 900789', 'Cat Example');
    await waitForStatus(consolePage, id, 'Link sent');
    expect(await consolePage.$eval(`tr[data-id="${id}"] .console-resend`, (b) => (b as HTMLElement).hidden)).toBe(false);
    expect(await consolePage.$$eval(`tr[data-id="${id}"] :is(.console-join, .console-end):not([hidden])`, (es) => es.length)).toBe(0);
    await consolePage.click(`tr[data-id="${id}"] .console-resend`);
    await waitForText(consolePage, 'Link re-sent to Cat Example');
    const events = (await server.api('GET', `/api/v1/consultations/${id}/events`)).body.events as { type: string; actor: string }[];
    expect(events.filter((e) => e.type === 'link_resent').map((e) => e.actor)).toEqual([`user:${reception.user.id}`]);
  });

  it('links an admin to the admin page, and signs out', async () => {
    const admin = await signedIn(server, { roles: ['admin'], displayName: 'Ada Admin' });
    const consolePage = await openConsole(admin);
    expect(await consolePage.$eval('#admin-link', (e) => [(e as HTMLElement).hidden, (e as HTMLAnchorElement).pathname])).toEqual([false, '/admin']);
    expect(await consolePage.$eval('#new-panel', (e) => (e as HTMLElement).hidden)).toBe(true);
    await clickButton(consolePage, 'Sign out');
    await consolePage.waitForFunction(() => location.pathname === '/signin', { polling: 100 });
    // The sign-out (with the CSRF token) ended the session in the store.
    expect(await server.app.store.getStaffSession(hashCode(admin.sessionId))).toBeUndefined();
  });
});
