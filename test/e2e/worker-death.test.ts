/**
 * A mediasoup worker killed with SIGKILL in the middle of a call: the pool replaces it, the
 * consultation gets a new router, both browsers re-negotiate by themselves and video flows
 * again; the service stays up and counts the death.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeParticipants, received } from '../helpers/browser.js';
import { admittedCall, decodes } from '../helpers/journey.js';
import { io } from 'socket.io-client';
import { type TestServer, codeOf, linkIn, startServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ mediaWorkers: 2 });
});
afterEach(async () => {
  await closeParticipants();
});
afterAll(async () => {
  await server?.close();
});

/** Resolves once the page was told to reset its media and decodes video again. */
async function videoBackAfterReset(page: Page): Promise<void> {
  await page.waitForFunction(() => window.openconsult.timeline.some(([label]) => label === 'media-reset'), { timeout: 10_000 });
  await decodes(page, 10, 10_000);
}

describe('when a media worker dies during a call', () => {
  it('replaces it, both sides get video back by themselves, and other consultations are untouched', async () => {
    const { id, patient, clinician } = await admittedCall(server);
    await decodes(clinician);

    // A second consultation, whose router goes to the other (least loaded) worker.
    const other = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900124' });
    const otherCode = codeOf(linkIn((await server.outbox()).find((m) => m.consultationId === other.body.id)!.body));
    const cookie = ((await fetch(`${server.url}/api/v1/links/${otherCode}/redeem`, { method: 'POST' })).headers.get('set-cookie') ?? '').split(';')[0] as string;
    const bystander = io(server.url, { auth: { consultationId: other.body.id }, extraHeaders: { cookie }, reconnection: false });
    expect((await bystander.timeout(5000).emitWithAck('join', {})).ok).toBe(true);
    let bystanderReset = false;
    bystander.on('mediaReset', () => (bystanderReset = true));
    const bystanderTransport = await bystander.timeout(5000).emitWithAck('createTransport', { direction: 'send' });
    expect(bystanderTransport.ok).toBe(true);

    // The first consultation's router is on the first worker (both were empty; ties go to the first).
    const [pid] = server.app.mediaWorkerPids();
    expect(pid).toBeGreaterThan(0);
    const killedAt = Date.now();
    process.kill(pid as number, 'SIGKILL');

    await Promise.all([videoBackAfterReset(patient), videoBackAfterReset(clinician)]).catch(async (e) => {
      for (const p of [patient, clinician]) console.log(JSON.stringify(await p.evaluate(() => [window.openconsult.timeline, document.body.innerText.slice(0, 400)])));
      throw e;
    });
    const recovery = Date.now() - killedAt;
    console.log(`worker SIGKILL -> video decoded again on both sides: ${recovery} ms`);
    expect(recovery).toBeLessThan(10_000);

    // Video keeps flowing, the call is still the same consultation, the service is ready.
    const before = await received(clinician);
    await clinician.waitForFunction(async (n: number) => (await window.openconsult.stats()).video.reduce((s, v) => s + v.framesDecoded, 0) > n + 20, { timeout: 5_000 }, before.framesDecoded);
    expect(server.app.mediaWorkerPids()).not.toContain(pid);
    expect((await server.api('GET', `/api/v1/consultations/${id}`)).body.status).toBe('in_call');
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/openconsult_media_worker_deaths_total 1/);
    // The other consultation never noticed: no reset, and its transport still answers.
    expect(bystanderReset).toBe(false);
    const ice = await bystander.timeout(5000).emitWithAck('restartIce', { transportId: bystanderTransport.data.id });
    expect(ice.ok).toBe(true);
    bystander.close();
  });
});
