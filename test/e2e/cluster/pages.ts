/**
 * What the region's browser tests watch inside a page: a sampler of the remote video it decodes
 * (every 100 ms: when frames advanced, and when the count started over because the page set up
 * a new call), and whether the waiting room was ever shown.
 */
import type { Page } from 'puppeteer-core';
import { onTestFailed } from 'vitest';
import type { Region } from '../../helpers/cluster.js';

interface Watch {
  /** Date.now() of each sample at which frames advanced. */
  progress: number[];
  /** Date.now() of each sample at which the count fell (a new call's consumers replaced the old). */
  resets: number[];
  sawWaitingRoom: boolean;
}

declare global {
  interface Window {
    regionWatch?: Watch;
  }
}

/** Starts watching the page (once per page load). */
export async function watch(page: Page): Promise<void> {
  await page.evaluate(() => {
    if (window.regionWatch) return;
    const w: Watch = { progress: [], resets: [], sawWaitingRoom: false };
    window.regionWatch = w;
    let last = 0;
    setInterval(() => {
      if (window.openconsult.state() === 'waiting' || document.body.innerText.includes('waiting room')) w.sawWaitingRoom = true;
      void window.openconsult.stats().then((s) => {
        const f = s.video.reduce((n, v) => n + v.framesDecoded, 0);
        const now = Date.now();
        if (f > last) w.progress.push(now);
        else if (f < last) w.resets.push(now);
        last = f;
      });
    }, 100);
  });
}

async function read(page: Page): Promise<Watch> {
  const w = await page.evaluate(() => window.regionWatch);
  if (!w) throw new Error('the page is not watched: call watch(page) first');
  return w;
}

/**
 * Waits until the page decodes video of a new call set up after `since` (a rejoin: the count
 * started over, then advanced for half a second), and resolves with when its first new frames came.
 */
export async function newVideoAfter(page: Page, since: number, timeout: number): Promise<number> {
  try {
    await page.waitForFunction((t: number) => {
      const w = window.regionWatch;
      const reset = w?.resets.find((r) => r > t);
      return reset !== undefined && (w?.progress.filter((p) => p > reset).length ?? 0) >= 5;
    }, { timeout, polling: 100 }, since);
  } catch (err) {
    // What the page went through, for the failure message.
    const seen = await page.evaluate((t: number) => ({
      state: window.openconsult.state(),
      timeline: window.openconsult.timeline.filter(([, at]) => at > performance.now() - (Date.now() - t) - 1000).map(([l, at]) => `${l}@${Math.round(at)}`),
      resets: window.regionWatch?.resets.filter((r) => r > t).map((r) => r - t),
      progress: window.regionWatch?.progress.filter((p) => p > t).length,
      text: document.body.innerText.slice(0, 300),
    }), since).catch((e: unknown) => String(e));
    throw new Error(`${(err as Error).message}; the page since: ${JSON.stringify(seen)}`);
  }
  const w = await read(page);
  const reset = w.resets.find((r) => r > since) as number;
  return w.progress.find((p) => p > reset) as number;
}

/** The longest time the page's remote video stood still between `from` and now (ms). */
export async function longestStill(page: Page, from: number): Promise<number> {
  const w = await read(page);
  const now = await page.evaluate(() => Date.now());
  const ticks = [from, ...w.progress.filter((p) => p > from), now];
  let longest = 0;
  for (let i = 1; i < ticks.length; i += 1) longest = Math.max(longest, (ticks[i] as number) - (ticks[i - 1] as number));
  return longest;
}

/** Whether the page has shown its waiting room since watch(). */
export async function sawWaitingRoom(page: Page): Promise<boolean> {
  return (await read(page)).sawWaitingRoom;
}

/** How many times the page has joined (its timeline's `joined` marks). */
export async function joins(page: Page): Promise<number> {
  return page.evaluate(() => window.openconsult.timeline.filter(([l]) => l === 'joined').length);
}

/** How many times the signalling connection followed a `moved` answer. */
export async function moves(page: Page): Promise<number> {
  return page.evaluate(() => window.openconsult.timeline.filter(([l]) => l === 'moved').length);
}

/** When the running test fails, prints the end of every node's log (the region's side of it). */
export function explainFailure(region: Region, lines = 30): void {
  onTestFailed(() => {
    for (const n of region.nodes) console.log(`--- ${n.id} (last ${lines} lines)\n${n.output().trim().split('\n').slice(-lines).join('\n')}`);
  });
}
