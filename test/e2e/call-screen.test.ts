/**
 * The call screen that fits (issue #18): on a phone the other person fills the screen, upright
 * and sideways, kept whole (never cropped); the self-view is a small picture in a corner; the
 * controls are one row of large buttons inside the screen, and nothing scrolls. Messages open as
 * a panel and close again. On the clinician's desktop the picture is as large as the window allows
 * beside the panels; with three people both others are on screen. The screen is kept on during
 * the call (Screen Wake Lock) and let go on leaving.
 *
 * Screenshots of every state at 360x740, 740x360 and 1280x800 go to test-artifacts/call-screen/
 * (ignored by git) for review.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../helpers/browser.js';
import { admittedCall, createConsultation, decodes, interpreterCall } from '../helpers/journey.js';
import { type TestServer, startServer } from '../helpers/server.js';

const shots = path.resolve('test-artifacts', 'call-screen');
const portrait = { width: 360, height: 740, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const landscape = { ...portrait, width: 740, height: 360 };
/** The desktop size on a phone-made page: changing isMobile would make puppeteer reload the page (and leave the call). */
const desktopSized = { ...portrait, width: 1280, height: 800, deviceScaleFactor: 1 };

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
  await mkdir(shots, { recursive: true });
});
afterEach(async () => {
  await closeParticipants();
});
afterAll(async () => {
  await server?.close();
});

type Box = { left: number; top: number; right: number; bottom: number; width: number; height: number };

interface Geometry {
  viewport: { width: number; height: number };
  scrollHeight: number;
  /** Every remote camera picture: its element's box, how it fits, and the picture shown inside it. */
  remotes: { box: Box; fit: string; picture: { width: number; height: number }; decoding: boolean }[];
  self: Box;
  /** `clipped`: its word does not fit inside it. */
  controls: (Box & { name: string; clipped: boolean })[];
  side: Box;
}

/** Where everything of the call is on screen now (after a fresh frame). */
async function geometry(page: Page): Promise<Geometry> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return page.evaluate(() => {
    const box = (e: Element): Box => {
      const r = e.getBoundingClientRect();
      return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height };
    };
    const remotes = [...document.querySelectorAll<HTMLVideoElement>('#remotes figure:not(.oc-screen) video')].map((v) => {
      const b = box(v);
      // object-fit: contain scales the picture to fit the box whole; cover would crop it.
      const scale = Math.min(b.width / v.videoWidth, b.height / v.videoHeight);
      return {
        box: b, fit: getComputedStyle(v).objectFit,
        picture: { width: v.videoWidth * scale, height: v.videoHeight * scale },
        decoding: v.videoWidth > 0 && !v.paused,
      };
    });
    const controls = [...document.querySelectorAll<HTMLButtonElement>('.oc-controls button')]
      .filter((b) => b.getClientRects().length > 0)
      .map((b) => ({ ...box(b), name: (b.textContent ?? '').trim(), clipped: b.scrollWidth > b.clientWidth }));
    return {
      viewport: { width: innerWidth, height: innerHeight },
      scrollHeight: document.scrollingElement!.scrollHeight,
      remotes, controls,
      self: box(document.getElementById('self-video')!),
      // The clinician's panels (none on the page before issue #18: then an empty box at the right edge).
      side: (() => {
        const side = document.querySelector('.oc-side');
        return side ? box(side) : { left: innerWidth, top: 0, right: innerWidth, bottom: 0, width: 0, height: 0 };
      })(),
    };
  });
}

/** Whatever the layout: every control is a large button inside the screen, in one row, and the page does not scroll. */
function expectControlsFit(g: Geometry, names: string[]): void {
  expect(g.scrollHeight).toBeLessThanOrEqual(g.viewport.height);
  for (const name of names) expect(g.controls.map((c) => c.name).join(' | ')).toContain(name);
  for (const c of g.controls) {
    expect(c.left, c.name).toBeGreaterThanOrEqual(0);
    expect(c.top, c.name).toBeGreaterThanOrEqual(0);
    expect(c.right, c.name).toBeLessThanOrEqual(g.viewport.width);
    expect(c.bottom, c.name).toBeLessThanOrEqual(g.viewport.height);
    expect(c.width, c.name).toBeGreaterThanOrEqual(44);
    expect(c.height, c.name).toBeGreaterThanOrEqual(44);
    expect(c.clipped, `${c.name}: its word fits`).toBe(false);
    expect(Math.abs(c.top - g.controls[0]!.top), `${c.name} in the same row`).toBeLessThanOrEqual(1);
  }
}

/** The self-view: a small picture in the bottom right corner, above the controls. */
function expectSelfInCorner(g: Geometry, stage: Box): void {
  expect(g.self.width * g.self.height).toBeLessThan(0.12 * stage.width * stage.height);
  expect(stage.right - g.self.right).toBeLessThanOrEqual(24);
  expect(g.self.bottom).toBeLessThanOrEqual(Math.min(...g.controls.map((c) => c.top)));
}

async function shoot(page: Page, name: string, sizes = [portrait, landscape, desktopSized]): Promise<void> {
  for (const size of sizes) {
    await page.setViewport(size);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({ path: path.join(shots, `${name}-${size.width}x${size.height}.png`) });
  }
  await page.setViewport(sizes[0]!);
}

const wakeLockHeld = (page: Page) => page.evaluate(() => (window.openconsult as unknown as { wakeLock?: () => boolean }).wakeLock?.() ?? false);

describe('the call screen', () => {
  it('on a phone the other person fills the screen, upright and sideways, whole, with one row of controls and nothing to scroll', async () => {
    const created = await createConsultation(server);
    const patient = await openParticipant({ phone: true });
    await patient.goto(created.patientUrl);
    await patient.waitForFunction(() => !(document.getElementById('join-button') as HTMLButtonElement).disabled, { timeout: 15_000 });
    await shoot(patient, 'patient-1-check');
    await clickButton(patient, 'Join');
    await waitForText(patient, 'You are in the waiting room');
    await shoot(patient, 'patient-2-waiting');

    const clinician = await openParticipant();
    await clinician.goto(created.clinicianUrl);
    await clickButton(clinician, 'Join');
    await clickButton(clinician, 'Admit');
    await Promise.all([decodes(patient, 10), decodes(clinician, 10)]);
    await patient.waitForFunction(() => (document.querySelector('#remotes video') as HTMLVideoElement | null)?.videoWidth, { timeout: 15_000 });
    await clinician.waitForFunction(() => (document.querySelector('#remotes video') as HTMLVideoElement | null)?.videoWidth, { timeout: 15_000 });

    // Upright: the picture's box is the whole screen, the picture inside it full width and whole.
    let g = await geometry(patient);
    const [upright] = g.remotes;
    expect(upright!.fit).toBe('contain');
    expect(upright!.box).toMatchObject({ left: 0, top: 0, width: 360, height: 740 });
    expect(upright!.picture.width).toBeCloseTo(360, 0);
    expectControlsFit(g, ['Mute microphone', 'Turn camera off', 'Messages', 'Leave']);
    expectSelfInCorner(g, upright!.box);
    expect(await wakeLockHeld(patient)).toBe(true);
    await shoot(patient, 'patient-3-call');

    // Another tab in front hides the page and the browser lets the lock go; shown again, the page asks again.
    const other = await patient.browserContext().newPage();
    await other.bringToFront();
    await patient.waitForFunction(() => document.visibilityState === 'hidden', { timeout: 10_000, polling: 100 });
    await patient.waitForFunction(() => !(window.openconsult as unknown as { wakeLock: () => boolean }).wakeLock(), { timeout: 10_000, polling: 100 });
    await patient.bringToFront();
    await patient.waitForFunction(() => (window.openconsult as unknown as { wakeLock: () => boolean }).wakeLock(), { timeout: 10_000, polling: 100 });
    await other.close();

    // Sideways: the whole screen again, the picture now full height.
    await patient.setViewport(landscape);
    g = await geometry(patient);
    const [sideways] = g.remotes;
    expect(sideways!.box).toMatchObject({ left: 0, top: 0, width: 740, height: 360 });
    expect(sideways!.picture.height).toBeCloseTo(360, 0);
    expectControlsFit(g, ['Mute microphone', 'Turn camera off', 'Messages', 'Leave']);
    expectSelfInCorner(g, sideways!.box);
    await patient.setViewport(portrait);

    // The clinician's desktop: the picture as large as the window allows beside the panels, never under them.
    g = await geometry(clinician);
    const [desk] = g.remotes;
    expect(desk!.box.left).toBe(0);
    expect(desk!.box.height).toBe(800);
    expect(desk!.box.right).toBeCloseTo(g.side.left, 0);
    expect(desk!.box.width + g.side.width).toBeCloseTo(1280, 0);
    expect(Math.max(desk!.picture.width / desk!.box.width, desk!.picture.height / desk!.box.height)).toBeCloseTo(1, 2);
    expectControlsFit(g, ['Mute microphone', 'Turn camera off', 'Share screen', 'Leave', 'End consultation']);
    expect(await clinician.$eval('#chat-input', (e) => e.getClientRects().length > 0)).toBe(true);
    await clinician.screenshot({ path: path.join(shots, 'clinician-call-1280x800.png') });

    // The same window zoomed to 200% (640x400 CSS pixels): the controls still fit in one row, nothing scrolls.
    await clinician.setViewport({ width: 640, height: 400, deviceScaleFactor: 2 });
    g = await geometry(clinician);
    expectControlsFit(g, ['Mute microphone', 'Turn camera off', 'Share screen', 'Leave', 'End consultation']);
    expect(g.remotes[0]!.box.width).toBeGreaterThanOrEqual(320);
    await clinician.screenshot({ path: path.join(shots, 'clinician-call-zoom200.png') });

    // A clinician on a phone: the panels above the picture (scrolling on their own), the controls, End included, still fit.
    await clinician.setViewport({ width: 360, height: 740, deviceScaleFactor: 2 });
    g = await geometry(clinician);
    expectControlsFit(g, ['Mute microphone', 'Leave', 'End consultation']);
    expect(g.side.height).toBeLessThanOrEqual(0.4 * 740 + 1);
    expect(g.remotes[0]!.box.top).toBeGreaterThanOrEqual(g.side.bottom - 1);
    expect(g.remotes[0]!.picture.width).toBeCloseTo(360, 0);
    await clinician.screenshot({ path: path.join(shots, 'clinician-call-360x740.png') });
    await clinician.setViewport({ width: 1280, height: 800 });

    // Leaving lets the screen turn off again.
    await clickButton(patient, 'Leave');
    await waitForText(patient, 'You have left the consultation');
    expect(await wakeLockHeld(patient)).toBe(false);
    await shoot(patient, 'patient-5-ended');
  });

  it('messages open as a panel over the call on a phone, count what arrives while closed, and close again', async () => {
    const { patient, clinician } = await admittedCall(server);
    await decodes(patient);
    expect(await patient.$eval('#chat', (e) => e.getClientRects().length)).toBe(0);

    await clickButton(patient, 'Messages');
    await patient.waitForFunction(() => document.activeElement?.id === 'chat-input');
    const panel = await patient.$eval('#chat', (e) => e.getBoundingClientRect().toJSON() as Box);
    expect(panel).toMatchObject({ left: 0, top: 0, width: 360, height: 740 });
    expect(await patient.$eval('#chat-button', (b) => b.getAttribute('aria-expanded'))).toBe('true');
    await patient.keyboard.type('Can you see the rash now?');
    await clickButton(patient, 'Send message');
    await waitForText(clinician, 'Ann Example: Can you see the rash now?');
    await shoot(patient, 'patient-4-chat-open');

    // Closed with its button: the focus goes back to Messages, and a new message is counted there.
    await clickButton(patient, 'Close messages');
    await patient.waitForFunction(() => document.activeElement?.id === 'chat-button' && document.getElementById('chat')!.getClientRects().length === 0);
    await clinician.type('#chat-input', 'Yes, clearly.');
    await clickButton(clinician, 'Send message');
    await patient.waitForFunction(() => document.getElementById('chat-button')!.textContent!.includes('1 new'), { timeout: 10_000 });
    await clickButton(patient, 'Messages');
    await waitForText(patient, 'Dr Bell: Yes, clearly.');
    expect(await patient.$eval('#chat-unread', (e) => (e as HTMLElement).hidden)).toBe(true);

    // Escape closes it too.
    await patient.keyboard.press('Escape');
    await patient.waitForFunction(() => document.activeElement?.id === 'chat-button' && document.getElementById('chat')!.getClientRects().length === 0);
    expect(await patient.$eval('#chat-button', (b) => b.getAttribute('aria-expanded'))).toBe('false');
  });

  it("a shared screen takes the stage and the sharer's camera becomes a small picture in a corner", async () => {
    const { patient, clinician } = await admittedCall(server);
    await decodes(patient, 10);
    await clickButton(clinician, 'Share screen');
    await patient.waitForFunction(() => (document.querySelector('figure[id$="-screen"] video') as HTMLVideoElement | null)?.videoWidth, { timeout: 15_000 });
    await patient.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const [screen, camera] = await Promise.all(['figure[id$="-screen"] video', 'figure:not([id$="-screen"]) video'].map((sel) =>
      patient.$eval(`#remotes ${sel}`, (v) => v.getBoundingClientRect().toJSON() as Box)));
    expect(screen).toMatchObject({ left: 0, top: 0, width: 360, height: 740 });
    expect(camera!.width * camera!.height).toBeLessThan(0.12 * 360 * 740);
    expect(camera!.left).toBeLessThanOrEqual(24);
    await shoot(patient, 'patient-7-screen-shared');
  });

  it('with three people both others are on screen: stacked upright, side by side sideways, the self-view still a corner', async () => {
    const { patient, clinician } = await interpreterCall(server);

    const bothDecoding = (page: Page) => page.waitForFunction(
      () => [...document.querySelectorAll<HTMLVideoElement>('#remotes video')].filter((v) => v.videoWidth > 0).length === 2,
      { timeout: 30_000, polling: 250 },
    );
    await Promise.all([bothDecoding(patient), bothDecoding(clinician)]);

    let g = await geometry(patient);
    expect(g.remotes).toHaveLength(2);
    const [a, b] = g.remotes as [Geometry['remotes'][0], Geometry['remotes'][0]];
    for (const r of [a, b]) {
      expect(r.decoding).toBe(true);
      expect(r.fit).toBe('contain');
      expect(r.box.width).toBe(360);
      expect(r.box.height).toBeGreaterThan(300);
    }
    expect(b.box.top).toBeGreaterThanOrEqual(a.box.bottom);
    expectControlsFit(g, ['Mute microphone', 'Messages', 'Leave']);
    expectSelfInCorner(g, { left: 0, top: 0, right: 360, bottom: 740, width: 360, height: 740 });
    await shoot(patient, 'patient-6-three-people');

    await patient.setViewport(landscape);
    g = await geometry(patient);
    const [l, r] = g.remotes as [Geometry['remotes'][0], Geometry['remotes'][0]];
    expect(l.box.height).toBe(360);
    expect(r.box.height).toBe(360);
    expect(r.box.left).toBeGreaterThanOrEqual(l.box.right);
    expect(l.box.width + r.box.width).toBeGreaterThan(730);
    expectControlsFit(g, ['Mute microphone', 'Messages', 'Leave']);

    g = await geometry(clinician);
    expect(g.remotes).toHaveLength(2);
    for (const rem of g.remotes) expect(rem.box.right).toBeLessThanOrEqual(g.side.left + 1);
    expectControlsFit(g, ['End consultation']);
    await clinician.screenshot({ path: path.join(shots, 'clinician-three-people-1280x800.png') });
  });
});
