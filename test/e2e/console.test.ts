/**
 * The clinician's console (/consolePage) in real Chromium against the real server: sign in with the
 * practice API key, create a consultation from the form, watch its status live while the patient
 * (on a phone, in a browser of their own) joins and waits, get alerted, open the video page from
 * the consolePage, admit, end; re-send a link and end from the consolePage.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../helpers/browser.js';
import { TEST_API_KEY, type TestServer, linkIn, startServer } from '../helpers/server.js';

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

async function openConsole(): Promise<Page> {
  const page = await openParticipant();
  await page.goto(`${server.url}/console`);
  await waitForText(page, 'Practice API key');
  return page;
}

async function signIn(page: Page, key: string): Promise<void> {
  await typeInto(page, '#api-key', key);
  await clickButton(page, 'Sign in');
}

/** Fills in the form and sends it; resolves to the new consultation's id once the console says so. */
async function createFromForm(page: Page, phone: string, name: string): Promise<string> {
  const before = (await server.outbox()).length;
  await typeInto(page, '#patient-phone', phone);
  await typeInto(page, '#patient-name', name);
  await typeInto(page, '#clinician-name', 'Dr Bell');
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

describe('the clinician console', () => {
  it('signs in, creates a consultation, alerts when the patient waits, opens the video, follows it to the end', async () => {
    const consolePage = await openConsole();
    await signIn(consolePage, 'not-the-practice-key');
    await waitForText(consolePage, 'That key was not accepted');
    expect(await consolePage.$eval('#api-key', (e) => e.getAttribute('aria-invalid'))).toBe('true');
    await signIn(consolePage, TEST_API_KEY);
    await waitForText(consolePage, "Today's video consultations");
    expect(await consolePage.evaluate(() => sessionStorage.getItem('openconsult.console.apiKey'))).toBe(TEST_API_KEY);

    const id = await createFromForm(consolePage, '07700 900123', 'Ann Example');
    await waitForStatus(consolePage, id, 'Link sent');
    const clinicianUrl = await consolePage.$eval('#created-url', (e) => (e as HTMLInputElement).value);
    expect(clinicianUrl).toMatch(/\/j\/[A-Za-z0-9_-]+$/);
    expect(await consolePage.$eval(`tr[data-id="${id}"] a.console-open`, (a) => [a.textContent, (a as HTMLAnchorElement).href]))
      .toEqual(['Open video with Ann Example', clinicianUrl]);

    // Polls update the row in place: the button the clinician is on keeps its focus.
    await consolePage.$eval(`tr[data-id="${id}"] .console-end`, (b) => { (b as HTMLElement).dataset.mark = 'focused'; (b as HTMLElement).focus(); });

    const patient = await openParticipant({ phone: true });
    await patient.goto(linkIn((await server.outbox())[0]!.body));
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

    // The clinician opens the video page from the consolePage, in a new tab of the same browser.
    await consolePage.click(`tr[data-id="${id}"] a.console-open`);
    const target = await consolePage.browser().waitForTarget((t) => t.url() === clinicianUrl);
    const video = (await target.page())!;
    await clickButton(video, 'Join');
    await waitForText(video, 'Ann Example is waiting');
    await clickButton(video, 'Admit');

    await waitForStatus(consolePage, id, 'In call');
    await consolePage.waitForFunction(() => document.title === 'Video consultations', { polling: 100 });
    expect(await consolePage.$eval('#waiting-alert', (e) => e.textContent)).toBe('');

    await clickButton(video, 'End consultation');
    await waitForStatus(consolePage, id, 'Ended');
    expect(await consolePage.$$eval(`tr[data-id="${id}"] .console-actions > :not([hidden])`, (es) => es.length)).toBe(0);
  }, 60_000);

  it('re-sends a link, shows the API\'s error next to the field, ends from the console, asks again when the key stops working', async () => {
    const consolePage = await openConsole();
    await signIn(consolePage, TEST_API_KEY);
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

    // A consultation whose clinician link this browser does not hold (created elsewhere) gets a fresh one.
    await consolePage.evaluate(() => sessionStorage.removeItem('openconsult.console.clinicianLinks'));
    await consolePage.reload();
    await consolePage.waitForSelector(`tr[data-id="${id}"] .console-get-link:not([hidden])`);
    await consolePage.click(`tr[data-id="${id}"] .console-get-link`);
    await consolePage.waitForSelector(`tr[data-id="${id}"] a.console-open:not([hidden])`);
    const fresh = await consolePage.$eval(`tr[data-id="${id}"] a.console-open`, (a) => (a as HTMLAnchorElement).href);
    expect(fresh).toMatch(/\/j\/[A-Za-z0-9_-]{22}$/);
    expect(await consolePage.$eval(`tr[data-id="${id}"] .console-get-link`, (b) => (b as HTMLElement).hidden)).toBe(true);

    consolePage.once('dialog', (d) => void d.accept());
    await consolePage.click(`tr[data-id="${id}"] .console-end`);
    await waitForStatus(consolePage, id, 'Ended');
    await waitForText(consolePage, 'The consultation with Bob Example has ended.');
    expect((await server.api('GET', `/api/v1/consultations/${id}`)).body.status).toBe('ended');

    // A key that is no longer accepted sends the clinician back to sign in, with a message.
    await consolePage.evaluate(() => sessionStorage.setItem('openconsult.console.apiKey', 'an-old-key'));
    await consolePage.reload();
    await waitForText(consolePage, 'Your sign-in was not accepted any more');
    expect(await consolePage.evaluate(() => sessionStorage.getItem('openconsult.console.apiKey'))).toBeNull();
  });
});
