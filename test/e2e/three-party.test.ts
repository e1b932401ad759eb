/**
 * Three people through the SFU: the clinician invites an interpreter from the call page with a
 * copyable link; patient and interpreter both wait, are admitted, and every side decodes the
 * video of both others, each labelled with their name and role.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../helpers/browser.js';
import { createConsultation } from '../helpers/journey.js';
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

/** Frames decoded per remote participant. */
async function framesByParticipant(page: Page): Promise<Record<string, number>> {
  return page.evaluate(async () => {
    const out: Record<string, number> = {};
    for (const v of (await window.openconsult.stats()).video) out[v.participantId] = (out[v.participantId] ?? 0) + v.framesDecoded;
    return out;
  });
}

/** Waits until the page decodes video from `count` others, then checks each keeps decoding. */
async function expectVideoFromOthers(page: Page, count: number): Promise<void> {
  await page.waitForFunction(async (n: number) => {
    const per: Record<string, number> = {};
    for (const v of (await window.openconsult.stats()).video) per[v.participantId] = (per[v.participantId] ?? 0) + v.framesDecoded;
    return Object.values(per).filter((f) => f > 0).length >= n;
  }, { timeout: 20_000, polling: 250 }, count);
  const before = await framesByParticipant(page);
  await page.waitForFunction(async (b: Record<string, number>) => {
    const per: Record<string, number> = {};
    for (const v of (await window.openconsult.stats()).video) per[v.participantId] = (per[v.participantId] ?? 0) + v.framesDecoded;
    return Object.keys(b).every((id) => (per[id] ?? 0) > (b[id] ?? 0) + 10);
  }, { timeout: 10_000, polling: 250 }, before);
  expect(Object.keys(before)).toHaveLength(count);
}

describe('a consultation with an interpreter', () => {
  it('lets the clinician invite an interpreter by link; all three see each other', async () => {
    const created = await createConsultation(server);

    const clinician = await openParticipant();
    await clinician.goto(created.clinicianUrl);
    await clickButton(clinician, 'Join');
    await waitForText(clinician, 'Nobody else is in the call yet');
    await clinician.click('#invite-panel summary');
    await clinician.select('#invite-label', 'Interpreter');
    await clinician.type('#invite-name', 'Maria');
    await clickButton(clinician, 'Create invitation');
    await clinician.waitForFunction(() => (document.getElementById('invite-link') as HTMLInputElement).value.includes('/j/'));
    const interpreterUrl = await clinician.$eval('#invite-link', (e) => (e as HTMLInputElement).value);

    const patient = await openParticipant({ phone: true });
    await patient.goto(created.patientUrl);
    await clickButton(patient, 'Join');
    await waitForText(patient, 'You are in the waiting room');

    const interpreter = await openParticipant();
    await interpreter.goto(interpreterUrl);
    await clickButton(interpreter, 'Join');
    await waitForText(interpreter, 'You are in the waiting room');

    await waitForText(clinician, 'Maria (Interpreter) is waiting');
    await clickButton(clinician, 'Admit Ann Example');
    await clickButton(clinician, 'Admit Maria (Interpreter)');

    await Promise.all([expectVideoFromOthers(clinician, 2), expectVideoFromOthers(patient, 2), expectVideoFromOthers(interpreter, 2)]);
    await waitForText(patient, 'Maria (Interpreter)');
    await waitForText(interpreter, 'Ann Example');
    expect(await patient.$$('#remotes video')).toHaveLength(2);

    const events = await server.api('GET', `/api/v1/consultations/${created.id}/events`);
    expect(events.body.events.map((e: { type: string }) => e.type)).toContain('guest_invited');
  });
});
