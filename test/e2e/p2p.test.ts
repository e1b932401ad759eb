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
import { admitOn, createConsultation, inviteInterpreter } from '../helpers/journey.js';
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
  server = await startServer({ p2pMode: 'prefer', host: net.serviceAddress, rtcListenIp: net.serviceAddress, announcedAddress: net.serviceAddress });
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
  const clinician = await host.participant();
  await admitOn(patient, clinician, created);
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

/**
 * Starts sampling, every 100 ms, what the page shows of each participant present now (decoded
 * frames, audio packets received); `gaps` then gives the longest time either stood still.
 */
async function record(page: Page, only?: string[]): Promise<string[]> {
  return page.evaluate(async (only?: string[]) => {
    type Track = { frames: number; packets: number; framesAt: number; packetsAt: number; frameGap: number; packetGap: number; samples: number };
    const w = window as unknown as { rec?: { on: boolean; by: Record<string, Track> } };
    if (w.rec) w.rec.on = false;
    const rec = { on: true, by: {} as Record<string, Track> };
    w.rec = rec;
    const read = async () => {
      const s = await window.openconsult.stats().catch(() => ({ video: [], audio: [] }));
      const by: Record<string, { frames: number; packets: number }> = {};
      for (const v of s.video) if (v.shown !== false) (by[v.participantId] ??= { frames: 0, packets: 0 }).frames += v.framesDecoded;
      for (const a of s.audio) if (a.shown !== false) (by[a.participantId] ??= { frames: 0, packets: 0 }).packets += a.packetsReceived;
      return by;
    };
    const now = performance.now();
    for (const [id, v] of Object.entries(await read())) {
      if (!only || only.includes(id)) rec.by[id] = { ...v, framesAt: now, packetsAt: now, frameGap: 0, packetGap: 0, samples: 0 };
    }
    const loop = async () => {
      while (rec.on) {
        await new Promise((r) => setTimeout(r, 100));
        const seen = await read();
        const at = performance.now();
        for (const [id, t] of Object.entries(rec.by)) {
          const v = seen[id] ?? { frames: t.frames, packets: t.packets };
          if (v.frames !== t.frames) [t.frames, t.framesAt] = [v.frames, at];
          if (v.packets !== t.packets) [t.packets, t.packetsAt] = [v.packets, at];
          t.frameGap = Math.max(t.frameGap, at - t.framesAt);
          t.packetGap = Math.max(t.packetGap, at - t.packetsAt);
          t.samples += 1;
        }
      }
    };
    void loop();
    return Object.keys(rec.by);
  }, only);
}

/** The longest gaps (ms) in decoded frames and in audio packets, over everyone recorded. */
async function gaps(page: Page): Promise<{ frames: number; packets: number; who: number; samples: number }> {
  return page.evaluate(() => {
    const rec = (window as unknown as { rec: { on: boolean; by: Record<string, { frameGap: number; packetGap: number; samples: number }> } }).rec;
    rec.on = false;
    const all = Object.values(rec.by);
    return {
      frames: Math.round(Math.max(...all.map((t) => t.frameGap))), packets: Math.round(Math.max(...all.map((t) => t.packetGap))),
      who: all.length, samples: Math.min(...all.map((t) => t.samples)),
    };
  });
}

/** Frames decoded per remote participant, whatever the path. */
async function framesBy(page: Page): Promise<Record<string, number>> {
  return page.evaluate(async () => {
    const out: Record<string, number> = {};
    for (const v of (await window.openconsult.stats()).video) out[v.participantId] = (out[v.participantId] ?? 0) + v.framesDecoded;
    return out;
  });
}

/** Waits until the page decodes new frames from `count` others. */
async function decodesFrom(page: Page, count: number): Promise<void> {
  const before = await framesBy(page);
  await page.waitForFunction(async (b: Record<string, number>, n: number) => {
    const per: Record<string, number> = {};
    for (const v of (await window.openconsult.stats()).video) per[v.participantId] = (per[v.participantId] ?? 0) + v.framesDecoded;
    return Object.entries(per).filter(([id, f]) => f > (b[id] ?? 0) + 5).length >= n;
  }, { timeout: 20_000, polling: 250 }, before, count);
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

  it('goes back to the SFU for a third person and direct again after they leave, with no gap over half a second', { timeout: 120_000 }, async () => {
    const { patient, clinician } = await call();
    await Promise.all([direct(patient), direct(clinician)]);

    const guestUrl = await inviteInterpreter(clinician);
    const [patientPeer, clinicianPeer] = await Promise.all([record(patient), record(clinician)]);
    // A third person in the waiting room: the two go back to the SFU before they can be let in.
    // A device of its own: a second page on the clinician's browser would share (and restart) its fake camera.
    const guestBrowser = await launchBrowser(1, { args: [`--unsafely-treat-insecure-origin-as-secure=${server.url}`] });
    const guest = await guestBrowser.participant();
    await guest.goto(guestUrl);
    await clickButton(guest, 'Join');
    await waitForText(guest, 'You are in the waiting room');
    for (const page of [patient, clinician]) {
      await page.waitForFunction(async () => (await window.openconsult.stats()).mediaPath === 'sfu', { timeout: 10_000, polling: 100 });
    }
    await clickButton(clinician, 'Admit Maria');
    // All three see each other.
    await Promise.all([decodesFrom(guest, 2), decodesFrom(patient, 2), decodesFrom(clinician, 2)]);
    const toSfu = [await gaps(patient), await gaps(clinician)];

    await Promise.all([record(patient, patientPeer), record(clinician, clinicianPeer)]);
    await clickButton(guest, 'Leave');
    await Promise.all([direct(patient), direct(clinician)]);
    await Promise.all([decodesFrom(patient, 1), decodesFrom(clinician, 1)]);
    const toDirect = [await gaps(patient), await gaps(clinician)];

    console.log(`longest gaps (ms) to the SFU: ${JSON.stringify(toSfu)}, back to direct: ${JSON.stringify(toDirect)}`);
    for (const g of [...toSfu, ...toDirect]) {
      expect(g.who).toBe(1);
      expect(g.samples).toBeGreaterThan(10);
      expect(g.frames).toBeLessThanOrEqual(500);
      expect(g.packets).toBeLessThanOrEqual(500);
    }
    await guestBrowser.close();
  });

  it('returns to the SFU by itself within a few seconds when the direct path is blocked', { timeout: 90_000 }, async () => {
    const { patient, clinician } = await call();
    await Promise.all([direct(patient), direct(clinician)]);
    // The phone reaches the service's address only: the SFU stays reachable, the other browser does not.
    net.onlyService();
    try {
      const blocked = Date.now();
      await Promise.all([patient, clinician].map((page) => page.waitForFunction(
        async () => (await window.openconsult.stats()).mediaPath === 'sfu', { timeout: 15_000, polling: 100 },
      )));
      const back = Date.now() - blocked;
      console.log(`direct path blocked: both pages back on the SFU after ${back} ms`);
      expect(back).toBeLessThan(10_000);
      // Picture and sound come through the SFU again, on both sides.
      for (const page of [patient, clinician]) {
        const before = await shown(page);
        await page.waitForFunction(async (b: { frames: number; packets: number }) => {
          const s = await window.openconsult.stats();
          const frames = s.video.filter((v) => v.via === 'sfu').reduce((n, v) => n + v.framesDecoded, 0);
          const packets = s.audio.filter((a) => a.via === 'sfu').reduce((n, a) => n + a.packetsReceived, 0);
          return frames > b.frames + 20 && packets > b.packets + 50;
        }, { timeout: 15_000, polling: 200 }, before);
      }
    } finally {
      net.removeRules('oc_only_service');
    }
  });
});
