/**
 * Peer-to-peer for two (issue #17): the same 1:1 call in real Chromium with `p2pMode: 'prefer'`
 * and with `'off'` (all through the SFU), side by side in one run. The patient's Chromium is in a
 * network namespace of its own (phoneNetwork(85) for the SFU call, 86 for the P2P one), the
 * clinician on the host. Per mode, 5 calls in turn (2 with --quick): Admit -> first decoded frame
 * (through the SFU either way), Admit -> media on the direct path (both pages play the direct
 * connection), medians; then, on the last call, the mediasoup
 * worker's CPU time and the bytes through the SFU (all transports' stats, both ways) over a
 * measured window once the call has settled; for P2P also the longest gap in decoded frames and
 * received audio packets on the two original sides while a third participant is admitted and
 * leaves (sampled in the page every 100 ms). Needs root (namespaces, tc, nft).
 */
import * as mediasoup from 'mediasoup';
import type { Router, WebRtcTransport, Worker } from 'mediasoup/node/lib/types.js';
import type { Page } from 'puppeteer-core';
import { type TestBrowser, clickButton, launchBrowser, waitForText } from '../../test/helpers/browser.js';
import { createConsultation, inviteInterpreter } from '../../test/helpers/journey.js';
import { canMakePhoneNet, phoneNetwork } from '../../test/helpers/netns.js';
import { startServer } from '../../test/helpers/server.js';
import { cpuSeconds } from './lib/proc.js';
import { type Figure, figure } from './lib/report.js';
import { median, round, sleep } from './lib/stats.js';

type Mode = 'off' | 'prefer';

interface Measured {
  /** Admit -> first decoded remote frame, the later of the two pages, ms: the median of the calls. */
  firstFrameMs: number;
  /** Admit -> both pages play the direct connection, ms (P2P only): the median of the calls. */
  directMs?: number;
  firstFrames: number[];
  directs: number[];
  /** Worker CPU, % of one core, over the window. */
  workerCpuPercent: number;
  /** Bytes through the SFU (received + sent, all transports), kbit/s over the window. */
  sfuKbps: number;
  /** Frames decoded per second on each side over the window: the call carried media either way. */
  patientFps: number;
  clinicianFps: number;
  /** Longest gaps (ms) on the two original sides: a third admitted, and the third leaving. */
  toSfu?: { frames: number; packets: number };
  toDirect?: { frames: number; packets: number };
}

/**
 * In-page recorder of what the page shows per participant (decoded frames, audio packets), every
 * 100 ms. A string, not a function: tsx would wrap the inner functions in a `__name` helper the
 * page does not have. `record(only)` starts afresh (returns who it records), `gaps()` stops and
 * returns the longest stand-still of frames and of packets over everyone recorded.
 */
const RECORDER = `(() => {
  if (window.p2pBench) return;
  const read = async () => {
    const s = await window.openconsult.stats().catch(() => ({ video: [], audio: [] }));
    const by = {};
    for (const v of s.video) if (v.shown !== false) (by[v.participantId] ??= { frames: 0, packets: 0 }).frames += v.framesDecoded;
    for (const a of s.audio) if (a.shown !== false) (by[a.participantId] ??= { frames: 0, packets: 0 }).packets += a.packetsReceived;
    return by;
  };
  let rec = { on: false, by: {} };
  window.p2pBench = {
    record: async (only) => {
      rec.on = false;
      rec = { on: true, by: {} };
      const mine = rec;
      const now = performance.now();
      for (const [id, v] of Object.entries(await read())) {
        if (!only || only.includes(id)) mine.by[id] = { ...v, framesAt: now, packetsAt: now, frameGap: 0, packetGap: 0 };
      }
      (async () => {
        while (mine.on) {
          await new Promise((r) => setTimeout(r, 100));
          const seen = await read();
          const at = performance.now();
          for (const [id, t] of Object.entries(mine.by)) {
            const v = seen[id] ?? { frames: t.frames, packets: t.packets };
            if (v.frames !== t.frames) { t.frames = v.frames; t.framesAt = at; }
            if (v.packets !== t.packets) { t.packets = v.packets; t.packetsAt = at; }
            t.frameGap = Math.max(t.frameGap, at - t.framesAt);
            t.packetGap = Math.max(t.packetGap, at - t.packetsAt);
          }
        }
      })();
      return Object.keys(mine.by);
    },
    gaps: () => {
      rec.on = false;
      const all = Object.values(rec.by);
      return { frames: Math.round(Math.max(0, ...all.map((t) => t.frameGap))), packets: Math.round(Math.max(0, ...all.map((t) => t.packetGap))) };
    },
  };
})()`;

const record = async (page: Page, only?: string[]): Promise<string[]> => {
  await page.evaluate(RECORDER);
  return page.evaluate(`window.p2pBench.record(${only ? JSON.stringify(only) : 'undefined'})`) as Promise<string[]>;
};
const gaps = (page: Page) => page.evaluate('window.p2pBench.gaps()') as Promise<{ frames: number; packets: number }>;

const FIRST_FRAME = `(async () => (await window.openconsult.stats()).video.some((v) => v.framesDecoded > 0))()`;
const DIRECT = `(async () => { const s = await window.openconsult.stats();
  return s.mediaPath === 'direct' && s.direct !== undefined && s.video.some((v) => v.via === 'p2p' && v.shown !== false && v.framesDecoded > 0); })()`;
const ON_SFU = `(async () => (await window.openconsult.stats()).mediaPath === 'sfu')()`;
const FRAMES = `(async () => (await window.openconsult.stats()).video.filter((v) => v.shown !== false).reduce((n, v) => n + v.framesDecoded, 0))()`;
/** New frames from `n` others (per participant, whatever the path) since `before`. */
const FRAMES_BY = `(async () => { const out = {}; for (const v of (await window.openconsult.stats()).video) out[v.participantId] = (out[v.participantId] ?? 0) + v.framesDecoded; return out; })()`;

async function decodesFrom(page: Page, n: number): Promise<void> {
  const before = await page.evaluate(FRAMES_BY) as Record<string, number>;
  await page.waitForFunction(`(async () => { const b = ${JSON.stringify(before)}; const now = await ${FRAMES_BY};
    return Object.entries(now).filter(([id, f]) => f > (b[id] ?? 0) + 5).length >= ${n}; })()`, { timeout: 30_000, polling: 250 });
}

/** Ms from `t0` until `expr` is true on the page (polled every 50 ms). */
async function until(page: Page, expr: string, t0: number, timeout = 60_000): Promise<number> {
  await page.waitForFunction(expr, { timeout, polling: 50 });
  return performance.now() - t0;
}

async function runMode(mode: Mode, calls: number, windowMs: number, log: (l: string) => void): Promise<Measured> {
  const transports: WebRtcTransport[] = [];
  let worker: Worker | undefined;
  const onWorker = (w: Worker) => {
    worker = w;
    w.observer.on('newrouter', (r: Router) => r.observer.on('newtransport', (t) => transports.push(t as WebRtcTransport)));
  };
  mediasoup.observer.on('newworker', onWorker);
  const net = await phoneNetwork(mode === 'off' ? 85 : 86);
  const host = net.serviceAddress;
  const browsers: TestBrowser[] = [];
  const server = await startServer({ p2pMode: mode, host, rtcListenIp: host, announcedAddress: host, logLevel: 'error' });
  const secure = [`--unsafely-treat-insecure-origin-as-secure=${server.url}`];
  try {
    if (!worker) throw new Error('no mediasoup worker seen');
    browsers.push(await net.launch({ url: server.url }), await launchBrowser(1, { args: secure }));
    const [phone, desk] = browsers as [TestBrowser, TestBrowser];
    // Several calls in turn on the same browsers (each a new consultation) for the Admit figures;
    // the last one stays for the CPU window and the switches.
    const firstFrames: number[] = [];
    const directs: number[] = [];
    let patient: Page | undefined;
    let clinician: Page | undefined;
    for (let i = 0; i < calls; i++) {
      await patient?.close();
      await clinician?.close();
      const created = await createConsultation(server);
      patient = await phone.participant({ phone: true });
      await patient.goto(created.patientUrl);
      await clickButton(patient, 'Join');
      await waitForText(patient, 'You are in the waiting room');
      clinician = await desk.participant();
      await clinician.goto(created.clinicianUrl);
      await clickButton(clinician, 'Join');
      // Admit's button is there before the clock starts: the figure is Admit -> frame, not the page's load.
      await clinician.waitForFunction(`[...document.querySelectorAll('button')].some((b) => !b.disabled && b.offsetParent !== null && (b.getAttribute('aria-label') ?? b.textContent ?? '').includes('Admit'))`, { timeout: 30_000, polling: 100 });
      const admitted = performance.now();
      await clickButton(clinician, 'Admit');
      const pages = [patient, clinician];
      firstFrames.push(Math.max(...await Promise.all(pages.map((p) => until(p, FIRST_FRAME, admitted)))));
      if (mode === 'prefer') directs.push(Math.max(...await Promise.all(pages.map((p) => until(p, DIRECT, admitted)))));
      log(`p2p ${mode}, call ${i + 1}: first frame ${round(firstFrames.at(-1) ?? NaN, 0)} ms after Admit${mode === 'prefer' ? `, direct ${round(directs.at(-1) ?? NaN, 0)} ms after Admit` : ''}`);
    }
    if (!patient || !clinician) throw new Error('no call');
    const firstFrameMs = median(firstFrames);
    const directMs = mode === 'prefer' ? median(directs) : undefined;

    // Settled: both send their full picture (and in P2P the SFU senders' queues have drained).
    await Promise.all([patient, clinician].map((p) => p.waitForFunction(
      `(async () => (await window.openconsult.stats()).video.some((v) => v.shown !== false && v.frameWidth >= 640))()`, { timeout: 60_000, polling: 250 })));
    // A moment for the senders' rates (and in P2P the paused SFU producers' queues) to settle.
    await sleep(3000);

    const sfuBytes = async () => {
      let n = 0;
      for (const t of transports.filter((x) => !x.closed)) {
        for (const s of await t.getStats()) n += Number(s.bytesReceived ?? 0) + Number(s.bytesSent ?? 0);
      }
      return n;
    };
    const cpu0 = cpuSeconds(worker.pid) ?? 0;
    const bytes0 = await sfuBytes();
    const frames0 = await Promise.all([patient, clinician].map((p) => p.evaluate(FRAMES) as Promise<number>));
    const t0 = performance.now();
    await sleep(windowMs);
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = cpuSeconds(worker.pid) ?? 0;
    const bytes1 = await sfuBytes();
    const frames1 = await Promise.all([patient, clinician].map((p) => p.evaluate(FRAMES) as Promise<number>));
    const out: Measured = {
      firstFrameMs, directMs, firstFrames, directs,
      workerCpuPercent: ((cpu1 - cpu0) / seconds) * 100,
      sfuKbps: ((bytes1 - bytes0) * 8) / 1000 / seconds,
      patientFps: ((frames1[0] ?? 0) - (frames0[0] ?? 0)) / seconds,
      clinicianFps: ((frames1[1] ?? 0) - (frames0[1] ?? 0)) / seconds,
    };
    log(`p2p ${mode}: worker ${round(out.workerCpuPercent)}% of a core, ${round(out.sfuKbps, 0)} kbit/s through the SFU, ${round(out.patientFps)} / ${round(out.clinicianFps)} frames/s decoded (patient / clinician) over ${round(seconds)} s`);

    if (mode === 'prefer') {
      // A third person: the two go back to the SFU before the third is let in, and direct again after they leave.
      const guestUrl = await inviteInterpreter(clinician);
      const [patientPeer, clinicianPeer] = await Promise.all([record(patient), record(clinician)]);
      browsers.push(await launchBrowser(1, { args: secure }));
      const guest = await (browsers[2] as TestBrowser).participant();
      await guest.goto(guestUrl);
      await clickButton(guest, 'Join');
      await waitForText(guest, 'You are in the waiting room', 30_000);
      await Promise.all([patient, clinician].map((p) => p.waitForFunction(ON_SFU, { timeout: 30_000, polling: 100 })));
      await clickButton(clinician, 'Admit Maria');
      await Promise.all([decodesFrom(guest, 2), decodesFrom(patient, 2), decodesFrom(clinician, 2)]);
      const toSfu = [await gaps(patient), await gaps(clinician)];
      await Promise.all([record(patient, patientPeer), record(clinician, clinicianPeer)]);
      await clickButton(guest, 'Leave');
      await Promise.all([patient, clinician].map((p) => p.waitForFunction(DIRECT, { timeout: 60_000, polling: 200 })));
      await Promise.all([decodesFrom(patient, 1), decodesFrom(clinician, 1)]);
      const toDirect = [await gaps(patient), await gaps(clinician)];
      const worst = (g: { frames: number; packets: number }[]) => ({ frames: Math.max(...g.map((x) => x.frames)), packets: Math.max(...g.map((x) => x.packets)) });
      out.toSfu = worst(toSfu);
      out.toDirect = worst(toDirect);
      log(`p2p prefer: longest gaps (frames / audio packets) a third admitted ${out.toSfu.frames} / ${out.toSfu.packets} ms, the third leaving ${out.toDirect.frames} / ${out.toDirect.packets} ms`);
    }
    return out;
  } finally {
    for (const b of browsers.reverse()) await b.close().catch(() => undefined);
    await server.close();
    await net.close();
    mediasoup.observer.off('newworker', onWorker);
  }
}

export async function benchP2p(opts: { quick: boolean; log: (line: string) => void }): Promise<{ figures: Figure[]; sfu?: Measured; p2p?: Measured }> {
  if (!canMakePhoneNet()) {
    opts.log('p2p: needs root, ip, tc and nft (a network namespace for the phone): skipped');
    return { figures: [] };
  }
  const windowMs = opts.quick ? 10_000 : 30_000;
  const calls = opts.quick ? 2 : 5;
  const sfu = await runMode('off', calls, windowMs, opts.log);
  const p2p = await runMode('prefer', calls, windowMs, opts.log);
  const note = `calls ${calls} per mode; ours: p2pMode prefer (direct between the browsers); bare column: the same call with p2pMode off (all through the SFU); Admit -> first frame off ${sfu.firstFrames.map((n) => round(n, 0)).join(', ')} ms, prefer ${p2p.firstFrames.map((n) => round(n, 0)).join(', ')} ms; -> direct ${p2p.directs.map((n) => round(n, 0)).join(', ')} ms`;
  const figures: Figure[] = [
    figure({ bench: 'p2p', figure: `Admit -> first frame (SFU either way), later side, median of ${calls}`, unit: 'ms', ours: round(p2p.firstFrameMs, 0), bare: round(sfu.firstFrameMs, 0), target: 'ratio <= 1.2', met: p2p.firstFrameMs <= sfu.firstFrameMs * 1.2, note }),
    figure({ bench: 'p2p', figure: `Admit -> media on the direct path, later side, median of ${calls}`, unit: 'ms', ours: round(p2p.directMs ?? NaN, 0), bare: null, target: '' }),
    figure({ bench: 'p2p', figure: 'worker CPU per 1:1 call', unit: '% core', ours: round(p2p.workerCpuPercent, 2), bare: round(sfu.workerCpuPercent, 2), target: '' }),
    figure({ bench: 'p2p', figure: 'bytes through the SFU per 1:1 call', unit: 'kbit/s', ours: round(p2p.sfuKbps, 1), bare: round(sfu.sfuKbps, 1), target: '' }),
    figure({ bench: 'p2p', figure: 'frames decoded, the slower side', unit: 'frames/s', ours: round(Math.min(p2p.patientFps, p2p.clinicianFps)), bare: round(Math.min(sfu.patientFps, sfu.clinicianFps)), target: '' }),
    figure({ bench: 'p2p', figure: 'longest frame gap, third admitted', unit: 'ms', ours: p2p.toSfu?.frames ?? null, bare: null, target: '<= 500', met: (p2p.toSfu?.frames ?? Infinity) <= 500 }),
    figure({ bench: 'p2p', figure: 'longest audio gap, third admitted', unit: 'ms', ours: p2p.toSfu?.packets ?? null, bare: null, target: '<= 500', met: (p2p.toSfu?.packets ?? Infinity) <= 500 }),
    figure({ bench: 'p2p', figure: 'longest frame gap, third leaving', unit: 'ms', ours: p2p.toDirect?.frames ?? null, bare: null, target: '<= 500', met: (p2p.toDirect?.frames ?? Infinity) <= 500 }),
    figure({ bench: 'p2p', figure: 'longest audio gap, third leaving', unit: 'ms', ours: p2p.toDirect?.packets ?? null, bare: null, target: '<= 500', met: (p2p.toDirect?.packets ?? Infinity) <= 500 }),
  ];
  return { figures, sfu, p2p };
}
