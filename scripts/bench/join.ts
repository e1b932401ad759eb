/**
 * Join: real headless Chromium with fake camera and microphone, one browser per participant
 * (contexts of one browser share its fake camera, which then stalls: test/helpers/browser.ts).
 *
 * Ours, per consultation: the patient opens the SMS link (check step ready), presses Join and
 * waits; the clinician opens theirs, presses Join and Admit; both decode each other's video.
 * Bare, per room: peer A opens the page and joins; peer B opens it (check ready) and presses
 * Join; both decode each other's video.
 *
 * Times come from the pages themselves: the product's window.openconsult.timeline marks (and the
 * bare page's identical marks), plus a 4 ms poller installed before any page script that notes
 * when the check step is ready and when the page state changes. Cross-page intervals use
 * performance.timeOrigin + mark, both browsers running on this machine's clock.
 */
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../../test/helpers/browser.js';
import { type Host, startHost } from './lib/host.js';
import { quietMachine } from './lib/proc.js';
import { type Figure, figure } from './lib/report.js';
import { median, percentile, round } from './lib/stats.js';

export interface JoinOptions {
  consultations: number;
  log: (line: string) => void;
}

interface PageTimes {
  timeOrigin: number;
  checkReady: number;
  /** Navigation milestones and when the link redemption answered (ms since navigation). */
  loading: { requestStart: number; responseStart: number; domContentLoaded: number; stylesLoaded: number; scriptsLoaded: number; redeemed: number | null };
  states: [string, number][];
  timeline: [string, number][];
}

/** Runs in the page before its own scripts. */
const POLLER = `(() => {
  const rec = { checkReady: undefined, states: [] };
  window.__bench = rec;
  let last;
  setInterval(() => {
    if (rec.checkReady === undefined) {
      const b = document.getElementById('join-button');
      const v = document.getElementById('check-video');
      if (b && !b.disabled && v && v.videoWidth > 0) rec.checkReady = performance.now();
    }
    const api = window.openconsult || window.bare;
    const s = api && api.state ? api.state() : undefined;
    if (s && s !== last) { last = s; rec.states.push([s, performance.now()]); }
  }, 4);
})();`;

async function open(b: TestBrowser, url: string, phone: boolean): Promise<Page> {
  const page = await b.participant({ phone });
  await page.evaluateOnNewDocument(POLLER);
  await page.goto(url);
  return page;
}

async function times(page: Page): Promise<PageTimes> {
  return page.evaluate(() => {
    const w = window as unknown as {
      __bench: { checkReady: number; states: [string, number][] };
      openconsult?: { timeline: [string, number][] };
      bare?: { timeline: [string, number][] };
    };
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    const redeem = resources.find((r) => r.name.includes('/redeem'));
    return {
      timeOrigin: performance.timeOrigin,
      checkReady: w.__bench.checkReady,
      loading: {
        requestStart: nav?.requestStart ?? 0,
        responseStart: nav?.responseStart ?? 0,
        domContentLoaded: nav?.domContentLoadedEventEnd ?? 0,
        stylesLoaded: Math.max(0, ...resources.filter((r) => r.name.endsWith('.css')).map((r) => r.responseEnd)),
        scriptsLoaded: Math.max(0, ...resources.filter((r) => r.initiatorType === 'script' || r.name.endsWith('.js')).map((r) => r.responseEnd)),
        redeemed: redeem ? redeem.responseEnd : null,
      },
      states: w.__bench.states,
      timeline: (w.openconsult ?? w.bare)?.timeline ?? [],
    };
  });
}

const waitCheckReady = (page: Page) =>
  page.waitForFunction(() => (window as unknown as { __bench: { checkReady?: number } }).__bench.checkReady !== undefined, { timeout: 20_000, polling: 20 });

const waitMark = (page: Page, label: string, timeout = 15_000) =>
  page.waitForFunction(
    (l: string) => {
      const w = window as unknown as { openconsult?: { timeline: [string, number][] }; bare?: { timeline: [string, number][] } };
      return ((w.openconsult ?? w.bare)?.timeline ?? []).some(([m]) => m === l);
    },
    { timeout, polling: 10 },
    label,
  );

const waitState = (page: Page, state: string, timeout = 15_000) =>
  page.waitForFunction(
    (s: string) => ((window as unknown as { __bench: { states: [string, number][] } }).__bench.states.some(([x]) => x === s)),
    { timeout, polling: 10 },
    state,
  );

/**
 * A person reads "… is waiting" before pressing Admit; the peer already in the bare room has been
 * sending for a while before the second one joins. Both stacks get the same pause between the
 * first sender's transport connecting and the last action, so neither is measured against a
 * sender that only just started (whose first key frame requests can wait seconds).
 */
export const HUMAN_PAUSE_MS = 1500;

async function pauseAfterMark(page: Page, label: string): Promise<void> {
  const at = await page.evaluate((l: string) => {
    const w = window as unknown as { openconsult?: { timeline: [string, number][] }; bare?: { timeline: [string, number][] } };
    const m = ((w.openconsult ?? w.bare)?.timeline ?? []).find(([x]) => x === l);
    return m ? performance.timeOrigin + m[1] : Date.now();
  }, label);
  const wait = at + HUMAN_PAUSE_MS - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

/** Clicks Join from inside the page and returns the page time of the click. */
const clickJoin = (page: Page) =>
  page.evaluate(() => {
    const t = performance.now();
    (document.getElementById('join-button') as HTMLButtonElement).click();
    return t;
  });

function markAt(t: PageTimes, label: string): number | undefined {
  return t.timeline.find(([m]) => m === label)?.[1];
}

function stateAt(t: PageTimes, state: string): number | undefined {
  return t.states.find(([s]) => s === state)?.[1];
}

export interface OursSample {
  patientCheckReady: number;
  patientLoading: PageTimes['loading'];
  clinicianCheckReady: number;
  patientJoinToWaiting: number;
  admitToFirstFramePatient: number;
  admitToFirstFrameClinician: number;
  patientMarks: Record<string, number>;
  /** When the patient's page asked for the camera and when it had it, from the page's start. */
  patientCamera: { asked: number; started: number };
}

export interface BareSample {
  checkReady: number;
  loading: PageTimes['loading'];
  camera: { asked: number; started: number };
  joinToFirstFrameSelf: number;
  joinToFirstFrameOther: number;
}

/** When a page asked for the camera and when it had it (both pages mark it alike). */
function cameraTimes(t: PageTimes): { asked: number; started: number } {
  return { asked: markAt(t, 'camera-asked') ?? Number.NaN, started: markAt(t, 'camera') ?? Number.NaN };
}

async function oursOnce(host: Host, browsers: [TestBrowser, TestBrowser]): Promise<OursSample> {
  const [c] = await host.child.call<{ id: string; patientUrl: string; clinicianUrl: string }[]>('createConsultations', { n: 1 });
  if (!c) throw new Error('no consultation created');
  try {
    return await oursSample(browsers, c);
  } finally {
    await host.child.call('endConsultation', { id: c.id }).catch(() => undefined);
  }
}

async function oursSample(browsers: [TestBrowser, TestBrowser], c: { patientUrl: string; clinicianUrl: string }): Promise<OursSample> {
  const patient = await open(browsers[0], c.patientUrl, true);
  await waitCheckReady(patient);
  const pJoin = await clickJoin(patient);
  await waitState(patient, 'waiting');
  // The patient's media is prepared while waiting: let it finish, as it would while a person waits.
  await waitMark(patient, 'send:connected');

  const clinician = await open(browsers[1], c.clinicianUrl, false);
  await waitCheckReady(clinician);
  await clickJoin(clinician);
  const admitButton = () => [...document.querySelectorAll('button')].find((b) => !b.disabled && (b.textContent ?? '').includes('Admit'));
  await clinician.waitForFunction(admitButton, { timeout: 15_000, polling: 10 });
  await waitMark(clinician, 'send:connected');
  await pauseAfterMark(clinician, 'send:connected');
  // The product marks 'admit' in its own click handler.
  await clinician.evaluate(() => {
    [...document.querySelectorAll('button')].find((b) => !b.disabled && (b.textContent ?? '').includes('Admit'))?.click();
  });
  await Promise.all([waitMark(patient, 'first-video-frame'), waitMark(clinician, 'first-video-frame')]);

  const [p, k] = await Promise.all([times(patient), times(clinician)]);
  const admitAt = k.timeOrigin + (markAt(k, 'admit') ?? Number.NaN);
  const waitingAt = stateAt(p, 'waiting') ?? Number.NaN;
  const patientMarks: Record<string, number> = {};
  for (const [m, at] of p.timeline) if (!(m in patientMarks)) patientMarks[m] = round(p.timeOrigin + at - admitAt, 0);
  return {
    patientCheckReady: p.checkReady,
    patientLoading: p.loading,
    patientCamera: cameraTimes(p),
    clinicianCheckReady: k.checkReady,
    patientJoinToWaiting: waitingAt - pJoin,
    admitToFirstFramePatient: p.timeOrigin + (markAt(p, 'first-video-frame') ?? Number.NaN) - admitAt,
    admitToFirstFrameClinician: k.timeOrigin + (markAt(k, 'first-video-frame') ?? Number.NaN) - admitAt,
    patientMarks,
  };
}

async function bareOnce(host: Host, browsers: [TestBrowser, TestBrowser], room: string): Promise<BareSample> {
  const a = await open(browsers[1], `${host.url}/?room=${room}`, false);
  await waitCheckReady(a);
  await clickJoin(a);
  await waitMark(a, 'send:connected');
  await waitMark(a, 'produced');

  const b = await open(browsers[0], `${host.url}/?room=${room}`, true);
  await waitCheckReady(b);
  await pauseAfterMark(a, 'send:connected');
  const bJoin = await clickJoin(b);
  await Promise.all([waitMark(a, 'first-video-frame'), waitMark(b, 'first-video-frame')]);
  const [ta, tb] = await Promise.all([times(a), times(b)]);
  const joinAt = tb.timeOrigin + bJoin;
  return {
    checkReady: tb.checkReady,
    loading: tb.loading,
    camera: cameraTimes(tb),
    joinToFirstFrameSelf: tb.timeOrigin + (markAt(tb, 'first-video-frame') ?? Number.NaN) - joinAt,
    joinToFirstFrameOther: ta.timeOrigin + (markAt(ta, 'first-video-frame') ?? Number.NaN) - joinAt,
  };
}

/** Fresh browsers for each sample; the sample starts once their start-up work has died down. */
async function withBrowsers<T>(fn: (b: [TestBrowser, TestBrowser]) => Promise<T>, log: (line: string) => void): Promise<T> {
  const browsers = await Promise.all([launchBrowser(), launchBrowser()]);
  try {
    const q = await quietMachine();
    if (!q.quiet) log(`join: the machine stayed busy ${round(q.ms, 0)} ms after the browsers started; measuring anyway`);
    return await fn(browsers);
  } finally {
    await Promise.all(browsers.map((b) => b.close().catch(() => undefined)));
  }
}

export interface JoinResult {
  figures: Figure[];
  ours: OursSample[];
  bare: BareSample[];
  failures: string[];
}

export async function benchJoin(opts: JoinOptions): Promise<JoinResult> {
  const [ours, bare] = await Promise.all([startHost('ours'), startHost('bare-media')]);
  const oursSamples: OursSample[] = [];
  const bareSamples: BareSample[] = [];
  const failures: string[] = [];
  try {
    for (let i = 0; i < opts.consultations; i++) {
      // Alternate which goes first so drift in the machine's load hits both alike.
      const order = i % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours'];
      for (const which of order) {
        try {
          if (which === 'ours') {
            const s = await withBrowsers((b) => oursOnce(ours, b), opts.log);
            oursSamples.push(s);
            opts.log(`join ours #${i + 1}: check ${round(s.patientCheckReady, 0)} ms (request ${round(s.patientLoading.requestStart, 0)}, first byte ${round(s.patientLoading.responseStart, 0)}, styles ${round(s.patientLoading.stylesLoaded, 0)}, DOMContentLoaded ${round(s.patientLoading.domContentLoaded, 0)}, redeemed ${round(s.patientLoading.redeemed ?? Number.NaN, 0)}, camera asked ${round(s.patientCamera.asked, 0)} and started ${round(s.patientCamera.started, 0)}), join->waiting ${round(s.patientJoinToWaiting, 0)} ms, admit->frame patient ${round(s.admitToFirstFramePatient, 0)} / clinician ${round(s.admitToFirstFrameClinician, 0)} ms`);
          } else {
            const s = await withBrowsers((b) => bareOnce(bare, b, `join-${i}`), opts.log);
            bareSamples.push(s);
            opts.log(`join bare #${i + 1}: check ${round(s.checkReady, 0)} ms (request ${round(s.loading.requestStart, 0)}, first byte ${round(s.loading.responseStart, 0)}, DOMContentLoaded ${round(s.loading.domContentLoaded, 0)}, camera asked ${round(s.camera.asked, 0)} and started ${round(s.camera.started, 0)}), join->frame self ${round(s.joinToFirstFrameSelf, 0)} / other ${round(s.joinToFirstFrameOther, 0)} ms`);
          }
        } catch (err) {
          failures.push(`${which} #${i + 1}: ${(err as Error).message.split('\n')[0]}`);
          opts.log(`join ${which} #${i + 1} failed: ${(err as Error).message.split('\n')[0]}`);
        }
      }
    }
  } finally {
    await Promise.all([ours.close(), bare.close()]);
  }
  return { figures: joinFigures(oursSamples, bareSamples, failures), ours: oursSamples, bare: bareSamples, failures };
}

function joinFigures(ours: OursSample[], bare: BareSample[], failures: string[]): Figure[] {
  const n = `n=${ours.length}/${bare.length}${failures.length ? `, ${failures.length} failed` : ''}`;
  const oCheck = ours.map((s) => s.patientCheckReady);
  const bCheck = bare.map((s) => s.checkReady);
  const oFrames = ours.flatMap((s) => [s.admitToFirstFramePatient, s.admitToFirstFrameClinician]);
  const bFrames = bare.flatMap((s) => [s.joinToFirstFrameSelf, s.joinToFirstFrameOther]);
  // The patient's join path with the human steps taken out: link -> check ready, Join -> waiting
  // (media prepared), Admit -> first remote frame. Bare: page -> check ready, Join -> first frame.
  const oPath = ours.map((s) => s.patientCheckReady + s.patientJoinToWaiting + s.admitToFirstFramePatient);
  const bPath = bare.map((s) => s.checkReady + s.joinToFirstFrameSelf);
  const oP95 = percentile(oFrames, 95);
  const pathRatio = median(oPath) / median(bPath);
  return [
    figure({ bench: 'join', figure: 'open link -> check step ready, p50', unit: 'ms', ours: median(oCheck), bare: median(bCheck), target: '', note: n }),
    figure({
      bench: 'join', figure: 'open link -> DOMContentLoaded, p50', unit: 'ms', ours: median(ours.map((s) => s.patientLoading.domContentLoaded)),
      bare: median(bare.map((s) => s.loading.domContentLoaded)), target: '',
      note: `p50 from the page's start: ours asks for the camera at ${round(median(ours.map((s) => s.patientCamera.asked)), 0)} ms and has its link redeemed at ${round(median(ours.flatMap((s) => (s.patientLoading.redeemed === null ? [] : [s.patientLoading.redeemed]))), 0)} ms, `
        + `bare asks at ${round(median(bare.map((s) => s.camera.asked)), 0)} ms; the camera then takes ${round(median(ours.map((s) => s.patientCamera.started - s.patientCamera.asked)), 0)} / ${round(median(bare.map((s) => s.camera.started - s.camera.asked)), 0)} ms`,
    }),
    figure({ bench: 'join', figure: 'open link -> check step ready, p95', unit: 'ms', ours: percentile(oCheck, 95), bare: percentile(bCheck, 95), target: '' }),
    figure({ bench: 'join', figure: 'patient Join -> waiting room ready, p50', unit: 'ms', ours: median(ours.map((s) => s.patientJoinToWaiting)), bare: null, target: '' }),
    figure({
      bench: 'join', figure: 'Admit -> first remote frame, each side, p50', unit: 'ms', ours: median(oFrames), bare: median(bFrames), target: '',
      note: 'bare: second peer\'s Join -> first remote frame, each side',
    }),
    figure({
      bench: 'join', figure: 'Admit -> first remote frame, each side, p95', unit: 'ms', ours: oP95, bare: percentile(bFrames, 95),
      target: 'ours p95 < 300 ms', met: Number.isFinite(oP95) ? oP95 < 300 : false,
    }),
    figure({
      bench: 'join', figure: 'first remote frames later than 1 s', unit: 'frames', ours: oFrames.filter((t) => t > 1000).length,
      bare: bFrames.filter((t) => t > 1000).length, target: '', ratio: null,
      note: `of ${oFrames.length} / ${bFrames.length}; a late first frame waits for a key frame after the consumer is resumed (see the marks in the JSON)`,
    }),
    figure({
      bench: 'join', figure: 'patient join path (machine time), p50', unit: 'ms', ours: median(oPath), bare: median(bPath),
      target: 'ratio <= 1.2', met: Number.isFinite(pathRatio) ? pathRatio <= 1.2 : false,
      note: 'ours: check ready + Join->waiting + Admit->frame; bare: check ready + Join->frame',
    }),
    figure({ bench: 'join', figure: 'patient join path (machine time), p95', unit: 'ms', ours: percentile(oPath, 95), bare: percentile(bPath, 95), target: '' }),
  ];
}
