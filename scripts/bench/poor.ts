/**
 * Poor network (issue #20): a two-party call with the patient's Chromium in a network namespace
 * (test/helpers/netns.ts, phoneNetwork(58)) and the clinician on the host, on ours and then on the
 * bare stack with the same namespace and limits: 300 kbit/s towards the phone, 300 kbit/s from
 * it, 5% random loss both ways. Per condition: decoded frames a second on the receiving side
 * (the worst and the median 5-second window), the picture's width at the end, the longest gap
 * between audio packets (sampled in the page every 100 ms). Needs root (namespaces, tc, nft).
 */
import type { Page } from 'puppeteer-core';
import { clickButton, launchBrowser } from '../../test/helpers/browser.js';
import { admitOn, createConsultation } from '../../test/helpers/journey.js';
import { canMakePhoneNet, phoneNetwork, type PhoneNet } from '../../test/helpers/netns.js';
import { startServer } from '../../test/helpers/server.js';
import { buildBarePage } from './bare/page.js';
import { startBareServer } from './bare/server.js';
import { type Figure, figure } from './lib/report.js';
import { median, round } from './lib/stats.js';

interface Sample { t: number; frames: number; width: number; audio: number }
interface Measured { worstFps: number; medianFps: number; width: number; audioGapMs: number }
type Condition = 'down' | 'up' | 'loss';
type Stack = 'ours' | 'bare';

const WINDOW_MS = 5000;
const MEASURE_MS = 20_000;

/**
 * Samples what a page receives every 100 ms, from either stack's page diagnostics. A string, not a
 * function: tsx would wrap the inner functions in a `__name` helper the page does not have.
 */
const SAMPLER = `(() => {
  if (window.poor) return;
  const samples = [];
  window.poor = samples;
  const read = async () => {
    if (window.bare) {
      const s = await window.bare.stats();
      return { frames: s.framesDecoded, width: s.frameWidth, audio: s.audioPackets };
    }
    const s = await window.openconsult.stats();
    return {
      frames: s.video.reduce((n, v) => n + v.framesDecoded, 0),
      width: Math.max(0, ...s.video.map((v) => v.frameWidth)),
      audio: s.audio.reduce((n, a) => n + a.packetsReceived, 0),
    };
  };
  let busy = false;
  setInterval(() => {
    if (busy) return;
    busy = true;
    read().then((s) => samples.push({ t: performance.now(), ...s })).finally(() => { busy = false; });
  }, 100);
})()`;

async function startSampling(page: Page): Promise<void> {
  await page.evaluate(SAMPLER);
}

async function measure(page: Page, ms: number): Promise<Measured> {
  const from = await page.evaluate(() => performance.now());
  await page.waitForFunction((t: number) => performance.now() >= t, { timeout: ms + 10_000, polling: 200 }, from + ms);
  const samples = await page.evaluate((a: number) => ((window as unknown as { poor: Sample[] }).poor).filter((s) => s.t >= a), from);
  const fps: number[] = [];
  for (let start = from; start + WINDOW_MS <= from + ms; start += WINDOW_MS) {
    const a = samples.find((s) => s.t >= start);
    const b = [...samples].reverse().find((s) => s.t <= start + WINDOW_MS);
    if (a && b && b.t > a.t) fps.push(((b.frames - a.frames) * 1000) / (b.t - a.t));
  }
  let gap = 0;
  let last = samples[0]?.t ?? from;
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i] as Sample;
    if (s.audio > (samples[i - 1] as Sample).audio) {
      gap = Math.max(gap, s.t - last);
      last = s.t;
    }
  }
  return {
    worstFps: Math.min(...fps), medianFps: median(fps), width: samples.at(-1)?.width ?? 0,
    audioGapMs: Math.max(gap, (samples.at(-1)?.t ?? last) - last),
  };
}

const FULL_PICTURE = `(async () => window.bare
  ? (await window.bare.stats()).frameWidth >= 640
  : (await window.openconsult.stats()).video.some((v) => v.frameWidth >= 640))()`;

const fullPicture = (page: Page) => page.waitForFunction(FULL_PICTURE, { timeout: 60_000, polling: 250 });

/** A call on one stack; returns the phone's page and the clinician's. */
async function call(stack: Stack, net: PhoneNet, url: string, patientUrl: string, clinicianUrl: string): Promise<{ patient: Page; clinician: Page; close: () => Promise<void> }> {
  const phone = await net.launch({ url });
  const desk = await launchBrowser(1, { args: [`--unsafely-treat-insecure-origin-as-secure=${url}`] });
  const patient = await phone.participant({ phone: true });
  const clinician = await desk.participant();
  if (stack === 'ours') {
    await admitOn(patient, clinician, { patientUrl, clinicianUrl });
  } else {
    await clinician.goto(`${url}/?room=poor`);
    await clickButton(clinician, 'Join', 30_000);
    await patient.goto(`${url}/?room=poor`);
    await clickButton(patient, 'Join', 30_000);
  }
  await Promise.all([fullPicture(patient), fullPicture(clinician)]);
  await Promise.all([startSampling(patient), startSampling(clinician)]);
  return { patient, clinician, close: async () => Promise.all([phone.close(), desk.close()]).then(() => undefined) };
}

async function runStack(stack: Stack, log: (l: string) => void): Promise<Record<Condition, Measured>> {
  const net = await phoneNetwork(58);
  const host = net.serviceAddress;
  const ours = stack === 'ours' ? await startServer({ host, rtcListenIp: host, announcedAddress: host, logLevel: 'error' }) : undefined;
  const bare = stack === 'bare' ? await startBareServer({ mode: 'media', page: await buildBarePage(), host }) : undefined;
  const url = (ours?.url ?? bare?.url) as string;
  try {
    const links = ours ? await createConsultation(ours) : { patientUrl: '', clinicianUrl: '' };
    const c = await call(stack, net, url, links.patientUrl, links.clinicianUrl);
    try {
      const out = {} as Record<Condition, Measured>;
      net.limit('down', 300);
      out.down = await measure(c.patient, MEASURE_MS);
      net.unlimit();
      await fullPicture(c.patient);
      net.limit('up', 300);
      out.up = await measure(c.clinician, MEASURE_MS);
      net.unlimit();
      await fullPicture(c.clinician);
      net.loss(5);
      out.loss = await measure(c.patient, MEASURE_MS);
      net.noLoss();
      for (const [k, m] of Object.entries(out)) {
        log(`poor ${stack} ${k}: worst ${round(m.worstFps)} / median ${round(m.medianFps)} frames/s, ${m.width} wide at the end, audio gap ${round(m.audioGapMs, 0)} ms`);
      }
      return out;
    } finally {
      await c.close();
    }
  } finally {
    await ours?.close();
    await bare?.close();
    await net.close();
  }
}

export async function benchPoor(opts: { log: (line: string) => void }): Promise<{ figures: Figure[]; ours?: Record<Condition, Measured>; bare?: Record<Condition, Measured> }> {
  if (!canMakePhoneNet()) {
    opts.log('poor: needs root, ip, tc and nft (a network namespace for the phone): skipped');
    return { figures: [] };
  }
  const ours = await runStack('ours', opts.log);
  const bare = await runStack('bare', opts.log);
  const names: Record<Condition, string> = { down: '300 kbit/s to the phone', up: '300 kbit/s from the phone', loss: '5% loss both ways' };
  const figures: Figure[] = [];
  for (const k of ['down', 'up', 'loss'] as const) {
    const o = ours[k];
    const b = bare[k];
    figures.push(
      figure({ bench: 'poor', figure: `${names[k]}: worst 5 s window`, unit: 'frames/s', ours: round(o.worstFps), bare: round(b.worstFps), target: '>= 10', met: o.worstFps >= 10 }),
      figure({ bench: 'poor', figure: `${names[k]}: median 5 s window`, unit: 'frames/s', ours: round(o.medianFps), bare: round(b.medianFps), target: '>= 10', met: o.medianFps >= 10 }),
      figure({ bench: 'poor', figure: `${names[k]}: picture width at the end`, unit: 'px', ours: o.width, bare: b.width, target: '' }),
      figure({ bench: 'poor', figure: `${names[k]}: longest audio gap`, unit: 'ms', ours: round(o.audioGapMs, 0), bare: round(b.audioGapMs, 0), target: '< 300', met: o.audioGapMs < 300 }),
    );
  }
  return { figures, ours, bare };
}
