/**
 * Calls that survive the network: media cut for real for 8 seconds comes back by itself, with
 * "reconnecting" shown meanwhile; a server restart mid-call resumes without a click.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeParticipants, received, waitForText } from '../helpers/browser.js';
import { admittedCall, decodes } from '../helpers/journey.js';
import { cutPorts, removeAll } from '../helpers/netcut.js';
import { freePort } from '../helpers/process.js';
import { type TestServer, startServer } from '../helpers/server.js';

// A media port range of this file's own, so the cut touches no other test's calls.
const RTC_MIN = 47100;
const RTC_MAX = 47199;
const servers: TestServer[] = [];

afterEach(async () => {
  removeAll();
  await closeParticipants();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => removeAll());

async function callInProgress(server: TestServer) {
  const call = await admittedCall(server);
  for (const p of [call.patient, call.clinician]) await decodes(p, 10);
  return call;
}

/** Resolves when both video frames and audio packets are arriving on the page again. */
async function flowing(page: Page, timeout: number): Promise<void> {
  const before = await received(page);
  await page.waitForFunction(async (f: number, a: number) => {
    const s = await window.openconsult.stats();
    return s.video.reduce((n, v) => n + v.framesDecoded, 0) > f + 5 && s.audio.reduce((n, x) => n + x.packetsReceived, 0) > a + 20;
  }, { timeout, polling: 100 }, before.framesDecoded, before.audioPackets);
}

describe('a call whose network drops', () => {
  it('gets media back by itself within 10 s of an 8 s cut, showing "reconnecting" meanwhile', async () => {
    const server = await startServer({ rtcMinPort: RTC_MIN, rtcMaxPort: RTC_MAX });
    servers.push(server);
    const { patient, clinician } = await callInProgress(server);

    const cut = cutPorts(RTC_MIN, RTC_MAX);
    const cutAt = Date.now();
    // Media really stopped: both sides notice and say the other is reconnecting.
    await Promise.all([waitForText(clinician, 'Ann Example is reconnecting', 8_000), waitForText(patient, 'Dr Bell is reconnecting', 8_000)]);
    const stalled = await received(clinician);
    await new Promise((r) => setTimeout(r, Math.max(0, cutAt + 8_000 - Date.now()))); // the cut lasts 8 s by design
    expect((await received(clinician)).audioPackets).toBe(stalled.audioPackets);
    cut.restore();
    const restoredAt = Date.now();

    await Promise.all([flowing(patient, 10_000), flowing(clinician, 10_000)]);
    const recovery = Date.now() - restoredAt;
    console.log(`network back -> media flowing both ways: ${recovery} ms`);
    expect(recovery).toBeLessThan(10_000);
    await Promise.all([waitForText(clinician, 'Ann Example is in the call', 5_000), waitForText(patient, 'Dr Bell is in the call', 5_000)]);
  });

  it('resumes the call without a click when the server restarts', async () => {
    const port = await freePort();
    const first = await startServer({ port, rtcMinPort: RTC_MIN, rtcMaxPort: RTC_MAX });
    const { id, patient, clinician } = await callInProgress(first);
    const dataDir = first.dataDir;

    const stoppedAt = Date.now();
    await first.app.close(); // SIGTERM's path: clients are told the service is restarting
    const second = await startServer({ port, dataDir, rtcMinPort: RTC_MIN, rtcMaxPort: RTC_MAX });
    servers.push(second);

    await Promise.all([
      patient.waitForFunction(() => window.openconsult.timeline.filter(([l]) => l === 'joined').length >= 2, { timeout: 15_000 }),
      clinician.waitForFunction(() => window.openconsult.timeline.filter(([l]) => l === 'joined').length >= 2, { timeout: 15_000 }),
    ]);
    await Promise.all([flowing(patient, 15_000), flowing(clinician, 15_000)]);
    console.log(`server restart -> media flowing both ways: ${Date.now() - stoppedAt} ms`);
    expect((await second.api('GET', `/api/v1/consultations/${id}`)).body.status).toBe('in_call');
    expect(await patient.evaluate(() => document.body.innerText)).not.toContain('waiting room');
  });
});
