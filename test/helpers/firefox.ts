/**
 * Debian's Firefox ESR driven by puppeteer-core over WebDriver BiDi, with Firefox's own fake
 * camera and microphone (set by preferences: Firefox has no command-line switch for them). One
 * browser per participant, like `openParticipant` for Chromium.
 */
import type { Browser, Page, Viewport } from 'puppeteer-core';
import puppeteer, { ProtocolError } from 'puppeteer-core';

export const firefoxPath = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

/** Preferences of a patient's Firefox with a fake camera, as it would be once they tapped "Allow". */
export const fakeMediaPrefs: Record<string, unknown> = {
  // A generated picture and tone instead of real devices, and no permission prompt.
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  // Remote video and sound play without a tap first (the page offers a button when they do not).
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // Camera and microphone allowed for every site, as after "Allow" (remembered). Not only for
  // the prompt: Firefox gathers ICE candidates on all interfaces only for a page that has this
  // permission, else only on the default route's (eth0 here), which cannot pair with the test
  // server's 127.0.0.1, and ICE fails.
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  // ...and loopback is left out of ICE unless asked for.
  'media.peerconnection.ice.loopback': true,
  // A fresh profile must not spend the test's time on updates, telemetry or first-run pages.
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
};

const open = new Set<Browser>();

/** A participant on Firefox: a fresh browser (its own profile) and one page in it. */
export async function openFirefoxParticipant(opts: { phone?: boolean } = {}): Promise<Page> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: firefoxPath,
    headless: true,
    protocol: 'webDriverBiDi',
    extraPrefsFirefox: fakeMediaPrefs,
  });
  open.add(browser);
  const page = await browser.newPage();
  // Set before the first navigation: turning touch on reloads the page.
  await setViewport(page, opts.phone ? { width: 360, height: 740, hasTouch: true, deviceScaleFactor: 2 } : { width: 1280, height: 800 });
  return page;
}

/**
 * puppeteer's setViewport over BiDi sends `browsingContext.setViewport` together with
 * `emulation.setScreenOrientationOverride`, which Firefox ESR 140 does not know (newer releases
 * do), and fails as soon as that one is refused. The size and pixel ratio are what the journey
 * needs, and every Firefox with BiDi has the command for those: when only an emulation extra is
 * unknown, wait for the size and ratio to take (or fail saying what the page has).
 */
async function setViewport(page: Page, viewport: Viewport): Promise<void> {
  try {
    await page.setViewport(viewport);
    return;
  } catch (err) {
    if (!(err instanceof ProtocolError && /\(emulation\.\w+\): unknown command/.test(err.message))) throw err;
  }
  const want = [viewport.width, viewport.height, viewport.deviceScaleFactor ?? 1] as const;
  await page.waitForFunction(
    (w: number, h: number, r: number) => innerWidth === w && innerHeight === h && devicePixelRatio === r,
    { timeout: 5_000, polling: 50 }, ...want,
  ).catch(async () => {
    const has = await page.evaluate(() => [innerWidth, innerHeight, devicePixelRatio]);
    throw new Error(`Firefox did not take the viewport: wanted ${want.join(' x ')}, has ${has.join(' x ')}`);
  });
}

export async function closeFirefoxParticipants(): Promise<void> {
  await Promise.all([...open].map((b) => b.close()));
  open.clear();
}
