/**
 * Three people through the SFU: the clinician invites an interpreter from the call page with a
 * copyable link; patient and interpreter both wait, are admitted, and every side decodes the
 * video of both others, each labelled with their name and role.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeParticipants, waitForText } from '../helpers/browser.js';
import { interpreterCall } from '../helpers/journey.js';
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
    const { id, patient, clinician, interpreter } = await interpreterCall(server);

    await Promise.all([expectVideoFromOthers(clinician, 2), expectVideoFromOthers(patient, 2), expectVideoFromOthers(interpreter, 2)]);
    await waitForText(patient, 'Maria (Interpreter)');
    await waitForText(interpreter, 'Ann Example');
    expect(await patient.$$('#remotes video')).toHaveLength(2);

    const events = await server.api('GET', `/api/v1/consultations/${id}/events`);
    expect(events.body.events.map((e: { type: string }) => e.type)).toContain('guest_invited');
  });
});
