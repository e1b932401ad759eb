/**
 * WCAG 2.1 A/AA, checked by axe-core in real Chromium on every page and state people see: the
 * patient's page on a phone (check, waiting, waiting with a message, call with chat, ended), the
 * clinician's (check, call with someone waiting, call with chat, ended), the error pages (a used
 * link, an unknown link, a refused camera, an app's own browser), the home page, the
 * clinician's console and the accessibility statement (reached from a footer by keyboard). The clinician runs a whole consultation with the keyboard alone, with a
 * visible focus at every stop; the patient uses touch (taps) on a phone-sized page.
 *
 * Screenshots for review go to test-artifacts/screenshots/ (ignored by git): every patient
 * state at 360x740 (`patient-*.png`) and at 320 px wide (`*-320.png`), the clinician's page and
 * the console at 1280x800, the console at 360 px.
 */
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allowAxe, axeViolations, expectAccessible } from '../helpers/axe.js';
import { chromiumPath, clickButton, closeParticipants, openParticipant, waitForText } from '../helpers/browser.js';
import { createConsultation } from '../helpers/journey.js';
import { codeOf, type TestServer, startServer } from '../helpers/server.js';
import { signInPage, signedIn } from '../helpers/staff.js';

const screenshots = path.resolve('test-artifacts', 'screenshots');
/** Chrome on an Android phone: the page's help then speaks of Android's menus. */
const androidChrome = 'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36';
/** Facebook's in-app browser on Android (an Android WebView, "; wv)", with Facebook's marks). */
const facebookAndroid = 'Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) '
  + 'Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/460.0.0.48.109;]';

let server: TestServer;
/** Browsers this file launches itself (not through openParticipant), closed after each test. */
const ownBrowsers: { browser: Browser; dir: string }[] = [];

beforeAll(async () => {
  server = await startServer();
  await mkdir(screenshots, { recursive: true });
});

afterEach(async () => {
  await closeParticipants();
  await Promise.all(ownBrowsers.splice(0).map(async ({ browser, dir }) => {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }));
});

afterAll(async () => {
  await server?.close();
});


/** A participant's page, ready for axe: a phone (360x740, touch) or a desktop. */
async function participant(phone: boolean): Promise<Page> {
  const page = await openParticipant({ phone });
  await allowAxe(page);
  return page;
}

/**
 * The page as the patient sees it on a 360x740 phone, saved for review, and the same at 320 px
 * wide (the narrowest phones still in use).
 */
async function snap(page: Page, name: string): Promise<void> {
  const phone = { width: 360, height: 740, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
  const frame = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await frame();
  await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
  await page.setViewport({ ...phone, width: 320 });
  await frame();
  await page.screenshot({ path: path.join(screenshots, `${name}-320.png`), fullPage: true });
  await page.setViewport(phone);
}

/** The clinician's desktop page (1280x800), saved for review. */
async function snapDesktop(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
}

async function checkReady(page: Page): Promise<void> {
  await waitForText(page, 'Check your camera and microphone');
  await page.waitForFunction(() => !(document.getElementById('join-button') as HTMLButtonElement).disabled);
}

async function decodesVideo(page: Page): Promise<void> {
  await page.waitForFunction(async () => (await window.openconsult.stats()).video.some((v) => v.framesDecoded > 0), { timeout: 20_000, polling: 50 });
}

/**
 * Where the keyboard focus is, and whether a sighted person can see it: the focused element
 * matches :focus-visible and looks different (outline, shadow, colours, border, underline)
 * from an unfocused copy of itself placed beside it.
 */
function focusHere(page: Page): Promise<{ name: string; id: string; text: string; visible: boolean }> {
  return page.evaluate(() => {
    const a = document.activeElement as HTMLElement | null;
    if (!a || a === document.body) return { name: 'body', id: '', text: '', visible: false };
    const look = (e: Element) => {
      const c = getComputedStyle(e);
      return [c.outlineStyle, c.outlineWidth, c.outlineColor, c.boxShadow, c.backgroundColor, c.color, c.borderColor, c.textDecorationLine].join('|');
    };
    const twin = a.cloneNode(true) as HTMLElement;
    twin.removeAttribute('id');
    a.after(twin);
    const plain = look(twin);
    twin.remove();
    const text = (a.textContent ?? '').trim();
    return { name: `${a.tagName.toLowerCase()}${a.id ? `#${a.id}` : ''} "${text.slice(0, 40)}"`, id: a.id, text, visible: a.matches(':focus-visible') && look(a) !== plain };
  });
}

/**
 * Presses Tab (only the keyboard) until the focus is on the element with this id, or on a
 * button whose text holds `text`; every stop on the way must show its focus.
 */
async function tabTo(page: Page, target: { id?: string; text?: string }, maxTabs = 30): Promise<void> {
  const visited: string[] = [];
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press('Tab');
    const here = await focusHere(page);
    visited.push(here.name);
    expect(here.visible, `focus must be visible on ${here.name} (Tab stops: ${visited.join(' > ')})`).toBe(true);
    if ((target.id && here.id === target.id) || (target.text && here.text.includes(target.text))) return;
  }
  throw new Error(`Tab never reached ${JSON.stringify(target)}; focus went through: ${visited.join(' > ')}`);
}

/** A phone user's tap (touch events, not a mouse click) on the enabled, visible button holding `text`. */
async function tapButton(page: Page, text: string): Promise<void> {
  const handle = await page.waitForFunction(
    (t: string) => [...document.querySelectorAll('button')].find((b) => !b.disabled && b.offsetParent !== null && (b.textContent ?? '').includes(t)),
    { timeout: 15_000 }, text,
  );
  await (handle as unknown as { tap: () => Promise<void> }).tap();
}

/** A Chromium without --use-fake-ui-for-media-stream, so permissions are really asked and can be refused. */
async function chromiumAsking(): Promise<Browser> {
  const dir = await mkdtemp(path.join(tmpdir(), 'openconsult-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath,
    headless: true,
    userDataDir: dir,
    args: [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream',
    ],
  });
  ownBrowsers.push({ browser, dir });
  return browser;
}

describe('accessibility (WCAG 2.1 AA, axe-core)', () => {
  it('patient and clinician pages pass in every state of a consultation', async () => {
    const c = await createConsultation(server);

    const patient = await participant(true);
    await patient.goto(c.patientUrl);
    await checkReady(patient);
    await patient.waitForFunction(() => (document.getElementById('check-video') as HTMLVideoElement).videoWidth > 0);
    await expectAccessible(patient, 'patient: camera and microphone check');
    await snap(patient, 'patient-1-check');

    await tapButton(patient, 'Join');
    await waitForText(patient, 'You are in the waiting room');
    await expectAccessible(patient, 'patient: waiting room');
    await snap(patient, 'patient-2-waiting');

    const clinician = await participant(false);
    await clinician.goto(c.clinicianUrl);
    await checkReady(clinician);
    await expectAccessible(clinician, 'clinician: camera and microphone check');
    await clickButton(clinician, 'Join');
    await waitForText(clinician, 'Ann Example is waiting');
    await expectAccessible(clinician, 'clinician: call with a patient waiting (Admit, message form)');
    await snapDesktop(clinician, 'clinician-1-waiting');

    await clinician.type('#waiting-list input', 'The clinic is running about 10 minutes late.');
    await clickButton(clinician, 'Send message to Ann Example');
    await waitForText(patient, 'The clinic is running about 10 minutes late.');
    await expectAccessible(patient, 'patient: waiting room with a message from the practice');
    await snap(patient, 'patient-3-waiting-message');

    await clickButton(clinician, 'Admit');
    await Promise.all([decodesVideo(patient), decodesVideo(clinician)]);
    await waitForText(patient, 'Dr Bell is in the call');
    // On the phone the messages are a panel, opened by its button (issue #18).
    await tapButton(patient, 'Messages');
    await patient.tap('#chat-input');
    await patient.keyboard.type('Hello, can you hear me?');
    await tapButton(patient, 'Send message');
    await waitForText(clinician, 'Hello, can you hear me?');
    await clinician.type('#chat-input', 'Yes, clearly.');
    await clickButton(clinician, 'Send message');
    await waitForText(patient, 'Yes, clearly.');
    await expectAccessible(patient, 'patient: in the call, with chat');
    await expectAccessible(clinician, 'clinician: in the call, with chat');
    await snapDesktop(clinician, 'clinician-2-call');
    await snap(patient, 'patient-4-call');
    await tapButton(patient, 'Close messages');
    await expectAccessible(patient, 'patient: in the call, messages closed (the picture and the controls)');
    await snap(patient, 'patient-4-call-picture');

    await clickButton(clinician, 'End consultation');
    await waitForText(patient, 'The consultation has ended');
    await waitForText(clinician, 'The consultation has ended');
    await expectAccessible(patient, 'patient: ended');
    await expectAccessible(clinician, 'clinician: ended');
    await snap(patient, 'patient-5-ended');
  });

  it('lets the clinician join, admit and end with the keyboard alone, focus always visible', async () => {
    const c = await createConsultation(server);
    const patient = await participant(true);
    await patient.goto(c.patientUrl);
    await checkReady(patient);
    await clickButton(patient, 'Join');
    await waitForText(patient, 'You are in the waiting room');

    const clinician = await participant(false);
    await clinician.goto(c.clinicianUrl);
    await checkReady(clinician);
    await tabTo(clinician, { id: 'join-button' });
    await clinician.keyboard.press('Enter');
    await waitForText(clinician, 'Ann Example is waiting');

    await tabTo(clinician, { text: 'Admit Ann Example' });
    await clinician.keyboard.press('Space');
    await Promise.all([decodesVideo(patient), decodesVideo(clinician)]);
    // Admitting removes the Admit button: the focus must land somewhere sensible, not on <body>.
    expect(await clinician.evaluate(() => document.activeElement !== document.body && document.activeElement !== null)).toBe(true);

    await tabTo(clinician, { id: 'end-button' });
    await clinician.keyboard.press('Enter');
    await waitForText(clinician, 'The consultation has ended');
    await waitForText(patient, 'The consultation has ended');
    expect((await server.api('GET', `/api/v1/consultations/${c.id}`)).body.status).toBe('ended');
  });

  it('error pages: a used link and an unknown link say what to do', async () => {
    const c = await createConsultation(server);
    // Someone (another device) already used the patient's link.
    const redeemed = await fetch(`${server.url}/api/v1/links/${codeOf(c.patientUrl)}/redeem`, { method: 'POST' });
    expect(redeemed.status).toBe(200);

    const page = await participant(true);
    await page.goto(c.patientUrl);
    await waitForText(page, 'This link has already been used');
    await waitForText(page, 'Ask the practice for a new one');
    await expectAccessible(page, 'error: link already used');
    await snap(page, 'patient-error-used-link');

    await page.goto(`${server.url}/j/AAAAAAAAAAAAAAAAAAAAAA`);
    await waitForText(page, 'This link is not valid');
    await expectAccessible(page, 'error: unknown link');
    await snap(page, 'patient-error-unknown-link');
  });

  it('a refused camera shows how to allow it, step by step', async () => {
    const c = await createConsultation(server);
    const browser = await chromiumAsking();
    const context = await browser.createBrowserContext();
    // Grants nothing: camera and microphone stay refused, as when someone taps "Block".
    await context.overridePermissions(server.url, []);
    const page = await context.newPage();
    await page.setViewport({ width: 360, height: 740, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await page.setUserAgent({ userAgent: androidChrome });
    await allowAxe(page);
    await page.goto(c.patientUrl);
    await waitForText(page, 'Your browser is blocking the camera or microphone');
    await page.waitForSelector('#permission-help[open]', { visible: true });
    const steps = await page.$$eval('#permission-help-text p', (ps) => ps.map((p) => p.textContent ?? ''));
    expect(steps.length).toBeGreaterThanOrEqual(2);
    expect(steps.join(' ')).toContain('Permissions');
    expect(await page.$eval('#retry-media', (b) => (b as HTMLElement).offsetParent !== null)).toBe(true);
    // No empty camera preview in the way: the help starts on the phone's first screen.
    expect(await page.$eval('#permission-help', (e) => e.getBoundingClientRect().top)).toBeLessThan(740 - 100);
    await expectAccessible(page, 'camera and microphone refused, with help');
    await snap(page, 'patient-error-camera-refused');
  });

  it("an app's own browser is told to open the link in Chrome", async () => {
    const c = await createConsultation(server);
    const page = await participant(true);
    await page.setUserAgent({ userAgent: facebookAndroid });
    await page.goto(c.patientUrl);
    await checkReady(page);
    await page.waitForSelector('#inapp-warning', { visible: true });
    expect(await page.$eval('#inapp-warning', (e) => (e as HTMLElement).innerText)).toContain('Open in Chrome');
    await expectAccessible(page, 'in-app browser warning');
    await snap(page, 'patient-inapp-browser');
  });

  it('the home page and the clinician console pass too', async () => {
    for (const [phone, name] of [['07700 900111', 'Bob Sample'], ['07700 900222', 'Cat Person']] as const) {
      expect((await server.api('POST', '/api/v1/consultations', { patientPhone: phone, patientName: name, clinicianName: 'Dr Bell' })).status).toBe(201);
    }
    const page = await participant(false);
    await page.goto(server.url);
    await waitForText(page, 'Video consultations');
    // The check itself works: a field without a label is caught.
    await page.evaluate(() => document.querySelector('main')?.append(Object.assign(document.createElement('input'), { id: 'axe-canary' })));
    expect((await axeViolations(page)).map((v) => v.id)).toContain('label');
    await page.evaluate(() => document.getElementById('axe-canary')?.remove());
    await expectAccessible(page, 'home page');

    // Signed in as a clinician (test/helpers/staff.ts), showing everyone's consultations.
    await signInPage(page, server, await signedIn(server, { roles: ['clinician'], displayName: 'Dr Bell' }));
    await page.evaluateOnNewDocument(() => sessionStorage.setItem('openconsult.console.owner', 'everyone'));
    await page.goto(`${server.url}/console`);
    await waitForText(page, 'Cat Person');
    await waitForText(page, 'Bob Sample');
    await expectAccessible(page, 'console: signed in, with a list');
    await snapDesktop(page, 'console');
    await page.setViewport({ width: 360, height: 740, isMobile: true, hasTouch: true });
    await expectAccessible(page, 'console: signed in, with a list, on a phone-sized screen');
    await snapDesktop(page, 'console-360');
  });

  it('the accessibility statement passes, reached by keyboard from the home page footer', async () => {
    const page = await participant(false);
    await page.goto(server.url);
    await waitForText(page, 'Video consultations');
    await tabTo(page, { text: 'Accessibility statement' });
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(new URL(page.url()).pathname).toBe('/accessibility');
    await waitForText(page, 'Accessibility statement for video consultations');
    await expectAccessible(page, 'accessibility statement');
    await snapDesktop(page, 'accessibility-statement');
    // Its own first Tab stop is the skip link, shown when focused.
    await tabTo(page, { text: 'Skip to main content' }, 1);
    await page.setViewport({ width: 320, height: 740, isMobile: true, hasTouch: true });
    await expectAccessible(page, 'accessibility statement on a 320 px screen');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
  });
});
