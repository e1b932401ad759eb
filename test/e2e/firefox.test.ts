/**
 * Firefox, the other engine patients use: Debian's Firefox ESR, driven by puppeteer over
 * WebDriver BiDi with Firefox's fake camera and microphone, joins as the patient (phone-sized)
 * and a Chromium clinician admits them. mediasoup-client picks its Firefox handler by itself;
 * both sides must decode each other's video and receive sound, through the real server and
 * mediasoup worker. Firefox ESR may lack requestVideoFrameCallback, so decoding is judged from
 * WebRTC statistics (inbound-rtp framesDecoded) through window.openconsult.stats().
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible } from '../helpers/axe.js';
import { clickButton, closeParticipants, openParticipant, received, waitForText } from '../helpers/browser.js';
import { closeFirefoxParticipants, openFirefoxParticipant } from '../helpers/firefox.js';
import { type TestServer, linkIn, startServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';

const screenshots = path.resolve('test-artifacts', 'screenshots');
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
  await mkdir(screenshots, { recursive: true });
});

afterEach(async () => {
  await Promise.all([closeParticipants(), closeFirefoxParticipants()]);
});

afterAll(async () => {
  await server?.close();
});

/** Resolves once the page has decoded more than `frames` remote video frames and received more than `packets` audio packets. */
async function receives(page: Page, frames = 0, packets = 0): Promise<void> {
  await waitUntil(
    page,
    async (f: number, p: number) => {
      const s = await window.openconsult.stats();
      return s.video.reduce((n, v) => n + v.framesDecoded, 0) > f && s.audio.reduce((n, a) => n + a.packetsReceived, 0) > p;
    },
    { timeout: 20_000, polling: 100 },
    frames, packets,
  );
}

describe('Firefox', () => {
  it('a Firefox patient and a Chromium clinician decode each other\'s video', async () => {
    const res = await server.api('POST', '/api/v1/consultations', {
      patientPhone: '07700 900123', patientName: 'Ann Example', clinicianName: 'Dr Bell',
    });
    expect(res.status).toBe(201);
    const sms = (await server.outbox()).find((m) => m.consultationId === res.body.id);

    // Both browsers start at once: Firefox takes a few seconds to launch.
    const [patient, clinician] = await Promise.all([openFirefoxParticipant({ phone: true }), openParticipant()]);
    expect(await patient.evaluate(() => navigator.userAgent)).toContain('Firefox/');
    // A phone-sized page, whichever Firefox release Debian serves today.
    expect(await patient.evaluate(() => [innerWidth, devicePixelRatio])).toEqual([360, 2]);

    await patient.goto(linkIn(sms!.body));
    await waitForText(patient, 'Check your camera and microphone');
    await waitUntil(patient, () => (document.getElementById('check-video') as HTMLVideoElement).videoWidth > 0, { timeout: 15_000 });
    await waitForText(patient, 'Your camera and microphone are working');
    await clickButton(patient, 'Join');
    await waitForText(patient, 'You are in the waiting room');

    await clinician.goto(res.body.clinicianUrl);
    await clickButton(clinician, 'Join');
    await waitForText(clinician, 'Ann Example is waiting');
    await clickButton(clinician, 'Admit');

    await Promise.all([receives(patient), receives(clinician)]).catch(async (err: unknown) => {
      // Say which side failed and how far each got, so a failure here is actionable.
      for (const [who, page] of [['Firefox patient', patient], ['Chromium clinician', clinician]] as const) {
        const seen = await page.evaluate(async () => ({ timeline: window.openconsult.timeline, stats: await window.openconsult.stats(), status: document.body.innerText.slice(0, 400) }));
        console.error(who, JSON.stringify(seen));
      }
      throw err;
    });
    await waitForText(patient, 'Dr Bell is in the call');
    // Not a single frame by chance: both keep decoding.
    const [p1, c1] = await Promise.all([received(patient), received(clinician)]);
    await Promise.all([receives(patient, p1.framesDecoded + 20, p1.audioPackets), receives(clinician, c1.framesDecoded + 20, c1.audioPackets)]);
    const [p2, c2] = await Promise.all([received(patient), received(clinician)]);
    console.log(`Firefox patient decoded ${p2.framesDecoded} frames (${p2.frameWidth} px wide); Chromium clinician ${c2.framesDecoded} (${c2.frameWidth} px wide)`);
    expect(p2.frameWidth).toBeGreaterThan(0);
    expect(c2.frameWidth).toBeGreaterThan(0);
    expect(await patient.$$eval('#remotes video', (vs) => vs.filter((v) => (v as HTMLVideoElement).srcObject !== null).length)).toBe(1);
    await patient.screenshot({ path: path.join(screenshots, 'firefox-patient-call.png') });

    // The call screen fits the phone in Firefox too (issue #18): the picture's box is the whole
    // screen and shows it whole, every control is inside the screen, nothing scrolls; axe is clean.
    const fit = await patient.evaluate(() => {
      const v = document.querySelector('#remotes video') as HTMLVideoElement;
      const r = v.getBoundingClientRect();
      const controls = [...document.querySelectorAll('.oc-controls button')].filter((b) => b.getClientRects().length > 0).map((b) => b.getBoundingClientRect());
      return {
        box: [r.width, r.height], fit: getComputedStyle(v).objectFit, scrolls: document.scrollingElement!.scrollHeight > innerHeight,
        outside: controls.filter((c) => c.left < 0 || c.top < 0 || c.right > innerWidth || c.bottom > innerHeight).length, controls: controls.length,
      };
    });
    expect(fit).toEqual({ box: [360, 740], fit: 'contain', scrolls: false, outside: 0, controls: 4 });
    // The CSP refuses axe's script tag and Firefox has no CSP bypass: put axe in from outside.
    await patient.evaluate(readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8'));
    await expectAccessible(patient, 'Firefox patient: in the call');
    await clickButton(patient, 'Messages');
    await waitUntil(patient, () => document.activeElement?.id === 'chat-input', { timeout: 5_000 });
    await expectAccessible(patient, 'Firefox patient: in the call, messages open');
    await clickButton(patient, 'Close messages');

    await clickButton(clinician, 'End consultation');
    await waitForText(patient, 'The consultation has ended');
  });
});
