/**
 * The identity check before the waiting room (issue #18) in real Chromium on a phone-sized
 * screen, against the real server: the console gives the date of birth; the patient types it in
 * the NHS.UK date input (Day, Month, Year), is told plainly what is wrong with an impossible or
 * a wrong date, reaches the camera check and the waiting room with the right one; five wrong
 * dates lock the link, the page tells them to call the practice and offers "Phone me instead",
 * and the console shows "Identity check failed". Screenshots in test-artifacts/.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../helpers/browser.js';
import { type TestServer, linkIn, startServer } from '../helpers/server.js';
import { signInPage, signedIn } from '../helpers/staff.js';

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

async function patientLinkOf(id: string): Promise<string> {
  const sms = (await server.outbox()).find((m) => m.consultationId === id);
  if (!sms) throw new Error('no SMS for the consultation');
  return linkIn(sms.body);
}

async function enterDate(page: Page, day: string, month: string, year: string): Promise<void> {
  for (const [id, value] of [['#dob-day', day], ['#dob-month', month], ['#dob-year', year]] as const) {
    await page.$eval(id, (e) => { (e as HTMLInputElement).value = ''; });
    if (value) await page.type(id, value);
  }
  await clickButton(page, 'Continue');
}

/** The error summary's text once it shows `words`; the inline error says the same. */
async function problemShown(page: Page, words: string): Promise<void> {
  await page.waitForFunction((w: string) => {
    const summary = document.getElementById('identity-summary');
    return summary && !summary.hidden && summary.textContent?.includes(w) && document.getElementById('dob-error-text')?.textContent?.includes(w);
  }, { timeout: 15_000 }, words);
}

describe('the identity check', () => {
  it('from the console\'s date of birth: impossible and wrong dates are explained, the right one leads to the camera check and the waiting room', async () => {
    const clinician = await signedIn(server, { roles: ['clinician'], displayName: 'Dr Bell' });
    const consolePage = await openParticipant();
    await signInPage(consolePage, server, clinician);
    await consolePage.goto(`${server.url}/console`);
    await consolePage.waitForSelector('#view-console:not([hidden])');
    await consolePage.type('#patient-phone', '07700 900123');
    await consolePage.type('#patient-name', 'Ann Example');
    await consolePage.$eval('#patient-dob', (e) => { (e as HTMLInputElement).value = '1956-03-09'; });
    await clickButton(consolePage, 'Send link to patient');
    await waitForText(consolePage, 'Link sent to Ann Example');
    const id = (await server.outbox()).at(-1)!.consultationId;
    expect((await server.api('GET', `/api/v1/consultations/${id}`)).body.identity).toBe('pending');

    const patient = await openParticipant({ phone: true });
    await patient.goto(await patientLinkOf(id));
    await waitForText(patient, 'What is your date of birth?');
    expect(await patient.$eval('#view-check', (e) => (e as HTMLElement).hidden)).toBe(true);
    // Labels of the three fields, one legend (the NHS.UK pattern).
    expect(await patient.$$eval('#dob label', (ls) => ls.map((l) => l.textContent?.trim()))).toEqual(['Day', 'Month', 'Year']);
    await patient.screenshot({ path: path.join(artifacts, 'identity-step-360x740.png') });

    await enterDate(patient, '', '', '');
    await problemShown(patient, 'Enter your date of birth');
    await enterDate(patient, '31', '2', '1956');
    await problemShown(patient, 'Date of birth must be a real date');
    await enterDate(patient, '9', '3', '');
    await problemShown(patient, 'Date of birth must include a year');
    expect(await patient.$eval('#dob-year', (e) => e.classList.contains('nhsuk-input--error'))).toBe(true);
    // Nothing of that reached the service: only real dates are counted as tries.
    expect((await server.app.store.getIdentity(id))?.failures).toBe(0);

    await enterDate(patient, '3', '9', '1956');
    await problemShown(patient, 'does not match');
    await problemShown(patient, '4 more times');
    await patient.screenshot({ path: path.join(artifacts, 'identity-wrong-360x740.png') });

    await enterDate(patient, '9', '3', '1956');
    await waitForText(patient, 'Check your camera and microphone');
    await patient.waitForFunction(() => (document.getElementById('check-video') as HTMLVideoElement).videoWidth > 0, { timeout: 15_000 });
    await clickButton(patient, 'Join');
    await waitForText(patient, 'You are in the waiting room');
    expect((await server.api('GET', `/api/v1/consultations/${id}`)).body.identity).toBe('confirmed');
  });

  it('locks the link after five wrong dates: the patient is told to call the practice, may ask to be phoned; the console says "Identity check failed"', async () => {
    const clinician = await signedIn(server, { roles: ['clinician'], displayName: 'Dr Bell' });
    const created = await server.api('POST', '/api/v1/consultations', {
      patientPhone: '07700 900124', patientName: 'Bob Locked', patientDateOfBirth: '1970-12-01', clinicianEmail: clinician.user.email,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const link = await patientLinkOf(id);

    const patient = await openParticipant({ phone: true });
    await patient.goto(link);
    await waitForText(patient, 'What is your date of birth?');
    for (let i = 1; i <= 4; i++) {
      await enterDate(patient, String(i), '1', '1971');
      await problemShown(patient, `${5 - i} more time`);
    }
    await enterDate(patient, '5', '1', '1971');
    await waitForText(patient, 'We could not confirm who you are');
    await waitForText(patient, 'Please call the practice');
    await patient.screenshot({ path: path.join(artifacts, 'identity-locked-360x740.png') });
    // No camera was ever asked for; the way forward is there.
    await clickButton(patient, 'Phone me instead');
    await waitForText(patient, 'We have asked the practice to phone you');

    // A reload (or another try) stays locked, the right date included.
    await patient.reload();
    await waitForText(patient, 'We could not confirm who you are');

    const consolePage = await openParticipant();
    await signInPage(consolePage, server, clinician);
    await consolePage.goto(`${server.url}/console`);
    await consolePage.waitForSelector(`tr[data-id="${id}"] .console-identity:not([hidden])`, { timeout: 15_000 });
    expect(await consolePage.$eval(`tr[data-id="${id}"] .console-identity`, (e) => e.textContent)).toBe('Identity check failed');
    await consolePage.screenshot({ path: path.join(artifacts, 'console-identity-failed-1280x800.png') });
  });
});
