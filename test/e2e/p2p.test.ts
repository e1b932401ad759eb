/**
 * Peer-to-peer for two (issue #17), in real Chromium: the patient's phone on a network of its own
 * (phoneNetwork 40), the clinician on this machine, the service on an address both reach. Media
 * starts through the SFU, moves to the direct connection once that decodes, goes back to the SFU
 * for a third person and comes back after they leave, with no gap a person would notice.
 */
import * as mediasoup from 'mediasoup';
import type { Router, WebRtcTransport, Worker } from 'mediasoup/node/lib/types.js';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestBrowser, clickButton, launchBrowser, waitForText } from '../helpers/browser.js';
import { createConsultation } from '../helpers/journey.js';
import { type PhoneNet, canMakePhoneNet, phoneNetwork } from '../helpers/netns.js';
import { type TestServer, startServer } from '../helpers/server.js';

const transports: WebRtcTransport[] = [];
const onWorker = (w: Worker) => w.observer.on('newrouter', (r: Router) => {
  r.observer.on('newtransport', (t) => transports.push(t as WebRtcTransport));
});

let net: PhoneNet;
let server: TestServer;
let phone: TestBrowser;
let host: TestBrowser;

beforeAll(async () => {
  if (!canMakePhoneNet()) throw new Error('these tests need root, ip, tc and nft');
  mediasoup.observer.on('newworker', onWorker);
  net = await phoneNetwork(40);
  server = await startServer({ host: net.serviceAddress, rtcListenIp: net.serviceAddress, announcedAddress: net.serviceAddress });
  phone = await net.launch({ url: server.url });
  host = await launchBrowser(1, { args: [`--unsafely-treat-insecure-origin-as-secure=${server.url}`] });
}, 60_000);
afterAll(async () => {
  mediasoup.observer.off('newworker', onWorker);
  await host?.close();
  await net?.close();
  await server?.close();
});

/** The patient waiting on the phone, the clinician on this machine who admits them. */
async function call(): Promise<{ patient: Page; clinician: Page; clinicianUrl: string }> {
  const created = await createConsultation(server);
  const patient = await phone.participant({ phone: true });
  await patient.goto(created.patientUrl);
  await clickButton(patient, 'Join');
  await waitForText(patient, 'You are in the waiting room');
  const clinician = await host.participant();
  await clinician.goto(created.clinicianUrl);
  await clickButton(clinician, 'Join');
  await clickButton(clinician, 'Admit');
  return { patient, clinician, clinicianUrl: created.clinicianUrl };
}

/** Resolves once the page shows the other's media from the direct connection. */
async function direct(page: Page, timeout = 30_000): Promise<void> {
  await page.waitForFunction(async () => {
    const s = await window.openconsult.stats();
    return s.mediaPath === 'direct' && s.direct !== undefined;
  }, { timeout, polling: 200 });
}

/** What is shown on the page right now, summed over everyone: decoded frames and audio packets. */
async function shown(page: Page): Promise<{ frames: number; packets: number }> {
  return page.evaluate(async () => {
    const s = await window.openconsult.stats();
    const frames = s.video.filter((v) => v.shown !== false).reduce((n, v) => n + v.framesDecoded, 0);
    const packets = s.audio.filter((a) => a.shown !== false).reduce((n, a) => n + a.packetsReceived, 0);
    return { frames, packets };
  });
}

/** Bytes the SFU moved (all transports of this server, both ways) per second, over `ms`. */
async function sfuRate(ms: number): Promise<number> {
  const total = async () => {
    let n = 0;
    for (const t of transports.filter((x) => !x.closed)) {
      for (const s of await t.getStats()) n += Number(s.bytesReceived ?? 0) + Number(s.bytesSent ?? 0);
    }
    return n;
  };
  const before = await total();
  await new Promise((r) => setTimeout(r, ms));
  return ((await total()) - before) / (ms / 1000);
}

describe('peer-to-peer for two', () => {
  it('moves the media of two onto a direct connection between the browsers; the SFU forwards nothing', async () => {
    const { patient, clinician } = await call();
    // The first picture still comes through the SFU.
    await patient.waitForFunction(async () => (await window.openconsult.stats()).video.some((v) => v.via === 'sfu' && v.framesDecoded > 0), { timeout: 20_000 });
    const sfuBusy = await sfuRate(2000);
    await Promise.all([direct(patient), direct(clinician)]);

    const p = await patient.evaluate(async () => (await window.openconsult.stats()).direct);
    const c = await clinician.evaluate(async () => (await window.openconsult.stats()).direct);
    expect(p?.localAddress).toBe(net.phoneAddress);
    expect(c?.remoteAddress).toBe(net.phoneAddress);
    for (const pair of [p, c]) {
      expect(pair?.localAddress).not.toBe(net.serviceAddress);
      expect(pair?.remoteAddress).not.toBe(net.serviceAddress);
      expect(pair?.localType).not.toBe('relay');
    }

    // The senders' queues drain within a moment of the pause.
    const settled = Date.now() + 10_000;
    while ((await sfuRate(1000)) > Math.max(5_000, sfuBusy / 20) && Date.now() < settled);
    // Both sides keep decoding picture and sound from the direct connection...
    const [p0, c0] = [await shown(patient), await shown(clinician)];
    const idle = await sfuRate(3000);
    const [p1, c1] = [await shown(patient), await shown(clinician)];
    expect(p1.frames - p0.frames).toBeGreaterThan(20);
    expect(c1.frames - c0.frames).toBeGreaterThan(20);
    expect(p1.packets - p0.packets).toBeGreaterThan(50);
    expect(c1.packets - c0.packets).toBeGreaterThan(50);
    // ...while the SFU carries only keep-alives (RTCP, ICE consent): a small part of the media rate.
    expect(sfuBusy).toBeGreaterThan(50_000);
    expect(idle).toBeLessThan(Math.max(5_000, sfuBusy / 20));
  });
});
