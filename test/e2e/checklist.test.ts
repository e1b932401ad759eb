/**
 * The clinician's start-of-call checklist (hazard log H07): it appears beside the video when the
 * patient is admitted, is ticked and saved with the keyboard, lands in the audit log as ticks, and
 * cannot be put away until the patient's location is confirmed. Axe-clean open and collapsed.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allowAxe, expectAccessible } from '../helpers/axe.js';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../helpers/browser.js';
import { decodes, waitingPatient } from '../helpers/journey.js';
import { type TestServer, startServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterEach(async () => {
  await closeParticipants();
});
afterAll(async () => {
  await server?.close();
});

/** Presses Tab until the focus is on `id` (keyboard only); fails after `max` presses. */
async function tabTo(page: Page, id: string, max = 30): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((want) => document.activeElement?.id === want, id)) return;
  }
  throw new Error(`Tab never reached #${id}`);
}

const isHidden = (page: Page, id: string) => page.evaluate((i) => {
  const e = document.getElementById(i);
  return !e || e.offsetParent === null;
}, id);

describe('start-of-call checklist', () => {
  it('appears beside the video when the clinician admits the patient, is saved with the keyboard and audited as ticks', async () => {
    const { id, clinicianUrl, patient } = await waitingPatient(server);
    const clinician = await openParticipant();
    await allowAxe(clinician);
    await clinician.goto(clinicianUrl);
    await clickButton(clinician, 'Join');
    await waitForText(clinician, 'Ann Example is waiting');
    expect(await isHidden(clinician, 'checklist-panel')).toBe(true);

    await clickButton(clinician, 'Admit');
    await decodes(clinician);
    await waitForText(clinician, 'Start-of-call checklist');
    // Beside the patient's picture, not over it; and until the location is saved it says why and cannot be hidden.
    const overlap = await clinician.evaluate(() => {
      const a = document.getElementById('checklist-panel')!.getBoundingClientRect();
      const b = document.querySelector('#remotes video')!.getBoundingClientRect();
      return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    });
    expect(overlap).toBe(false);
    await waitForText(clinician, 'the emergency services need their location');
    expect(await isHidden(clinician, 'checklist-toggle')).toBe(true);
    expect(await isHidden(patient, 'checklist-panel')).toBe(true);
    await expectAccessible(clinician, 'clinician: in the call with the checklist open');

    await clinician.evaluate(() => (document.getElementById('call-title') as HTMLElement).focus());
    await tabTo(clinician, 'checklist-location');
    await clinician.keyboard.press('Space');
    await tabTo(clinician, 'checklist-identity');
    await clinician.keyboard.press('Space');
    await tabTo(clinician, 'checklist-save');
    await clinician.keyboard.press('Enter');
    await waitForText(clinician, 'Checklist saved.');

    const events = (await server.api('GET', `/api/v1/consultations/${id}/events`)).body.events as { type: string; actor: string; detail: unknown }[];
    expect(events.filter((e) => e.type === 'checklist')).toEqual([
      expect.objectContaining({ actor: 'clinician', detail: { location: true, identity: true, private: false, othersAgreed: false } }),
    ]);

    // Location confirmed: the panel may be put away and brought back.
    expect(await isHidden(clinician, 'checklist-why')).toBe(true);
    await clickButton(clinician, 'Hide checklist');
    await clinician.waitForFunction(() => document.getElementById('checklist-body')!.hidden);
    expect(await clinician.$eval('#checklist-toggle', (b) => b.getAttribute('aria-expanded'))).toBe('false');
    await expectAccessible(clinician, 'clinician: in the call with the checklist collapsed');
    await clickButton(clinician, 'Show checklist');
    await clinician.waitForFunction(() => !document.getElementById('checklist-body')!.hidden);
    expect(await clinician.$eval('#checklist-location', (b) => (b as HTMLInputElement).checked)).toBe(true);
  });
});
