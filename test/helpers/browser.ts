/**
 * Debian's Chromium driven by puppeteer-core, with fake camera and microphone. One browser per
 * participant, like separate devices: contexts of one browser share its fake camera, whose
 * capture then stalls for up to two seconds when another context starts using it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { waitUntil } from './wait.js';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface TestBrowser {
  browser: Browser;
  /** A new page with its own cookies; phone-sized with touch when `phone` is set. */
  participant(opts?: { phone?: boolean }): Promise<Page>;
  close(): Promise<void>;
}

/** Every browser opened by `openParticipant`, closed together by `closeParticipants`. */
const open = new Set<TestBrowser>();

/** A participant on a device of their own: a fresh browser and one page in it. */
export async function openParticipant(opts: { phone?: boolean; cameras?: number } = {}): Promise<Page> {
  const b = await launchBrowser(opts.cameras);
  open.add(b);
  return b.participant(opts);
}

export async function closeParticipants(): Promise<void> {
  await Promise.all([...open].map((b) => b.close()));
  open.clear();
}

/**
 * `cameras`: how many fake cameras the device has (a phone's front and back: 2). `launch`: another
 * executable that starts Chromium (in a network namespace: see netns.ts), more flags.
 */
export async function launchBrowser(
  cameras = 1, launch: { executablePath?: string; pipe?: boolean; args?: string[] } = {},
): Promise<TestBrowser> {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'openconsult-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: launch.executablePath ?? chromiumPath,
    headless: true,
    userDataDir,
    pipe: launch.pipe ?? false,
    args: [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      cameras > 1 ? `--use-fake-device-for-media-stream=device-count=${cameras}` : '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required', '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
      ...(launch.args ?? []),
    ],
  });
  return {
    browser,
    async participant(opts = {}) {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      if (opts.phone) await page.setViewport({ width: 360, height: 740, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
      else await page.setViewport({ width: 1280, height: 800 });
      return page;
    },
    async close() {
      await browser.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Waits for a visible, enabled button whose accessible name (its text) contains `text`, and clicks it. */
export async function clickButton(page: Page, text: string, timeout = 15_000): Promise<void> {
  const handle = await waitUntil(
    page,
    (t: string) => [...document.querySelectorAll('button')].find(
      (b) => !b.disabled && b.offsetParent !== null && ((b.getAttribute('aria-label') ?? b.textContent) ?? '').includes(t),
    ),
    { timeout },
    text,
  );
  await (handle as unknown as { click: () => Promise<void> }).click();
}

export async function waitForText(page: Page, text: string, timeout = 15_000): Promise<void> {
  await waitUntil(page, (t: string) => document.body.innerText.includes(t), { timeout }, text);
}

export interface Received {
  framesDecoded: number;
  frameWidth: number;
  audioPackets: number;
}

/** What the page decodes from others, summed over its remote streams. */
export async function received(page: Page): Promise<Received> {
  return page.evaluate(async () => {
    const s = await window.openconsult.stats();
    return {
      framesDecoded: s.video.reduce((n, v) => n + v.framesDecoded, 0),
      frameWidth: Math.max(0, ...s.video.map((v) => v.frameWidth)),
      audioPackets: s.audio.reduce((n, a) => n + a.packetsReceived, 0),
    };
  });
}
