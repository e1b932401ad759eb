/**
 * The page behind a link uses it up only when the person presses Join in a browser that can hold
 * the call: opening it and reaching the camera check uses nothing (a link scanner that runs
 * JavaScript does no harm), an app's own browser never redeems it, and Join does. An expired
 * link says so and how to get a new one. Real Chromium, the real server, real mediasoup.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../helpers/browser.js';
import { createConsultation } from '../helpers/journey.js';
import { type TestServer, codeOf, startServer } from '../helpers/server.js';

/** Facebook's in-app browser on Android (an Android WebView, "; wv)", with Facebook's marks). */
const facebookAndroid = 'Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) '
  + 'Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/460.0.0.48.109;]';

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

/** Redeems as another browser would: its status says whether the link was still unused. */
const redeemElsewhere = async (url: string) =>
  (await fetch(`${server.url}/api/v1/links/${codeOf(url)}/redeem`, { method: 'POST' })).status;

/** The check step has run its camera check (Join is enabled, shown or not). */
async function checkReady(page: import('puppeteer-core').Page): Promise<void> {
  await waitForText(page, 'Check your camera and microphone');
  await page.waitForFunction(() => !(document.getElementById('join-button') as HTMLButtonElement).disabled);
}

describe('the link page', () => {
  it('runs the camera check without using the link up', async () => {
    const c = await createConsultation(server);
    const page = await openParticipant({ phone: true });
    await page.goto(c.patientUrl);
    await checkReady(page);
    await page.waitForFunction(() => (document.getElementById('check-video') as HTMLVideoElement).videoWidth > 0);
    expect(await redeemElsewhere(c.patientUrl)).toBe(200);
  });

  it('never uses the link up in an app\'s own browser, and says it still works elsewhere', async () => {
    const c = await createConsultation(server);
    const page = await openParticipant({ phone: true });
    await page.setUserAgent({ userAgent: facebookAndroid });
    await page.goto(c.patientUrl);
    await checkReady(page);
    await page.waitForSelector('#inapp-warning', { visible: true });
    expect(await page.$eval('#inapp-warning', (e) => (e as HTMLElement).innerText)).toContain('has not been used');
    expect(await page.$eval('#join-button', (b) => (b as HTMLElement).offsetParent === null)).toBe(true);
    expect(await redeemElsewhere(c.patientUrl)).toBe(200);
  });

  it('never uses the link up in a browser without WebRTC', async () => {
    const c = await createConsultation(server);
    const page = await openParticipant({ phone: true });
    await page.evaluateOnNewDocument(() => {
      delete (window as { RTCPeerConnection?: unknown }).RTCPeerConnection;
    });
    await page.goto(c.patientUrl);
    await waitForText(page, 'This browser cannot make video calls');
    expect(await redeemElsewhere(c.patientUrl)).toBe(200);
  });

  it('redeems the link on Join', async () => {
    const c = await createConsultation(server);
    const page = await openParticipant({ phone: true });
    await page.goto(c.patientUrl);
    await clickButton(page, 'Join');
    await waitForText(page, 'You are in the waiting room');
    expect(await redeemElsewhere(c.patientUrl)).toBe(410);
  });

  it('tells the holder of an expired link that it expired and how to get a new one', async () => {
    const short = await startServer({ linkTtl: 1 });
    try {
      // Listening before the consultation exists: its one-second link may expire at once.
      const expired = new Set<string>();
      let wake = () => undefined as void;
      short.app.consultations.on('statusChanged', ({ id, to }) => {
        if (to !== 'expired') return;
        expired.add(id);
        wake();
      });
      const c = await createConsultation(short);
      while (!expired.has(c.id)) await new Promise<void>((resolve) => { wake = resolve; });
      const page = await openParticipant({ phone: true });
      await page.goto(c.patientUrl);
      await waitForText(page, 'This link has expired');
      await waitForText(page, 'Ask the practice for a new one');
    } finally {
      await short.close();
    }
  });
});
