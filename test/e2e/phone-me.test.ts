/**
 * "I cannot get the video to work" (issue #18) in real Chromium against the real server: a
 * patient in the waiting room asks the practice to phone them instead; they are told what
 * happens next, the clinician's page in the call says so at once, the console (a receptionist's)
 * alerts as for a waiting patient (banner, chime, tab title) and marks it done; both are audited.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../helpers/browser.js';
import { waitingPatient } from '../helpers/journey.js';
import { type TestServer, startServer } from '../helpers/server.js';
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

describe('phone me instead', () => {
  it('from the waiting room reaches the clinician\'s page and the console at once, is audited and marked done', async () => {
    const receptionist = await signedIn(server, { roles: ['receptionist'], displayName: 'Rae Front' });
    const consolePage = await openParticipant();
    await signInPage(consolePage, server, receptionist);
    await consolePage.goto(`${server.url}/console`);
    await consolePage.waitForSelector('#view-console:not([hidden])');

    const { id, clinicianUrl, patient } = await waitingPatient(server);
    const clinician = await openParticipant();
    await clinician.goto(clinicianUrl);
    await clickButton(clinician, 'Join');
    await waitForText(clinician, 'Ann Example is waiting');
    const tonesBefore = await consolePage.evaluate(() => window.openconsultConsole.tones());

    await patient.click('.oc-phone-me[data-where="waiting"] summary');
    await clickButton(patient, 'Phone me instead');
    await waitForText(patient, 'We have asked the practice to phone you on the number they have for you. Keep your phone with you.');
    await patient.screenshot({ path: path.join(artifacts, 'phone-me-waiting-360x740.png') });

    // The clinician's page hears it without reloading; the console within a poll.
    await waitForText(clinician, 'The patient asked to be phoned instead');
    expect(await clinician.$eval('#callback-notice', (e) => e.getAttribute('role'))).toBe('alert');
    await waitForText(consolePage, 'Ann Example asked to be phoned instead');
    expect(await consolePage.$eval('#callback-alert', (e) => e.getAttribute('role'))).toBe('alert');
    await consolePage.waitForFunction((n: number) => window.openconsultConsole.tones() > n, { timeout: 15_000 }, tonesBefore);
    await consolePage.waitForFunction(() => document.title.startsWith('(1) to phone'), { timeout: 15_000 });
    await consolePage.screenshot({ path: path.join(artifacts, 'console-phone-me-1280x800.png') });

    await clickButton(consolePage, 'Mark as phoned');
    await consolePage.waitForFunction(() => !document.getElementById('callback-alert')?.textContent, { timeout: 15_000 });
    expect(await consolePage.title()).not.toContain('to phone');

    const events = (await server.api('GET', `/api/v1/consultations/${id}/events`)).body.events as { type: string; actor: string }[];
    expect(events.filter((e) => e.type === 'callback_requested').map((e) => e.actor)).toEqual(['patient']);
    expect(events.filter((e) => e.type === 'callback_done').map((e) => e.actor)).toEqual([`user:${receptionist.user.id}`]);
  });
});
