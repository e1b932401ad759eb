/**
 * Peer-to-peer for two with `P2P_MODE=relay` (issue #17): the direct connection may use only the
 * TURN relay (Debian's coturn on loopback), so neither browser learns the other's address. Both
 * pages' selected pair is relay and the other's video and sound keep arriving over it. Each page
 * reports when the direct path took over (page telemetry), and the figure reaches /metrics.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeParticipants } from '../helpers/browser.js';
import { type Coturn, startCoturn } from '../helpers/coturn.js';
import { admittedCall } from '../helpers/journey.js';
import { sample } from '../helpers/metrics.js';
import { freePort } from '../helpers/process.js';
import { type TestServer, startServer } from '../helpers/server.js';

const SECRET = 'coturn-p2p-relay-secret';
let coturn: Coturn;
let server: TestServer;

beforeAll(async () => {
  coturn = await startCoturn({ port: await freePort(), secret: SECRET, relayMinPort: 47800, relayMaxPort: 47899 });
  server = await startServer({ p2pMode: 'relay', turnUrls: [`turn:127.0.0.1:${coturn.port}?transport=udp`], turnSecret: SECRET });
}, 30_000);
afterAll(async () => {
  await closeParticipants();
  await server?.close();
  await coturn?.close();
});

/** Resolves once the page shows the other's media from the direct connection. */
async function direct(page: Page): Promise<void> {
  await page.waitForFunction(async () => {
    const s = await window.openconsult.stats();
    return s.mediaPath === 'direct' && s.direct !== undefined;
  }, { timeout: 30_000, polling: 200 });
}

/** Video frames decoded and audio packets received from the direct connection. */
async function viaDirect(page: Page): Promise<{ frames: number; packets: number }> {
  return page.evaluate(async () => {
    const s = await window.openconsult.stats();
    return {
      frames: s.video.filter((v) => v.via === 'p2p').reduce((n, v) => n + v.framesDecoded, 0),
      packets: s.audio.filter((a) => a.via === 'p2p').reduce((n, a) => n + a.packetsReceived, 0),
    };
  });
}

describe('peer-to-peer through the relay only', () => {
  it('both pages\' direct connection goes through TURN and carries picture and sound', { timeout: 90_000 }, async () => {
    const { patient, clinician } = await admittedCall(server);
    await Promise.all([direct(patient), direct(clinician)]);
    for (const page of [patient, clinician]) {
      const pair = await page.evaluate(async () => (await window.openconsult.stats()).direct);
      expect(pair).toMatchObject({ localType: 'relay', remoteType: 'relay', relayProtocol: 'udp' });
      // Each side sees only the relay's address, never the other browser's.
      expect(pair?.remoteAddress).toBe('127.0.0.1');
      const before = await viaDirect(page);
      await page.waitForFunction(async (b: { frames: number; packets: number }) => {
        const s = await window.openconsult.stats();
        const frames = s.video.filter((v) => v.via === 'p2p').reduce((n, v) => n + v.framesDecoded, 0);
        const packets = s.audio.filter((a) => a.via === 'p2p').reduce((n, a) => n + a.packetsReceived, 0);
        return frames > b.frames + 20 && packets > b.packets + 50;
      }, { timeout: 15_000, polling: 200 }, before);
    }
  });

  it('the pages report the time from admission to media on the direct path, counted in /metrics', { timeout: 90_000 }, async () => {
    const scrape = async () => (await fetch(`${server.url}/metrics`)).text();
    const count = (text: string, role: string) => sample(text, `openconsult_p2p_direct_seconds_count{role="${role}"}`) ?? 0;
    const before = await scrape();
    const { patient, clinician } = await admittedCall(server);
    await Promise.all([direct(patient), direct(clinician)]);
    const deadline = Date.now() + 15_000;
    let text = await scrape();
    while ((count(text, 'patient') <= count(before, 'patient') || count(text, 'clinician') <= count(before, 'clinician')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      text = await scrape();
    }
    expect(count(text, 'patient')).toBe(count(before, 'patient') + 1);
    expect(count(text, 'clinician')).toBe(count(before, 'clinician') + 1);
    // Relay candidates connect in well under CONNECT_MS (8 s) on loopback; the sum is in seconds.
    const sum = (sample(text, 'openconsult_p2p_direct_seconds_sum{role="patient"}') ?? 0) - (sample(before, 'openconsult_p2p_direct_seconds_sum{role="patient"}') ?? 0);
    console.log(`patient: admission to media on the direct (relayed) path ${Math.round(sum * 1000)} ms`);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(20);
  });

  it('refuses path reports from outside a consultation and reports that do not fit the schema', async () => {
    const outside = await fetch(`${server.url}/api/v1/telemetry/p2p`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ outcome: 'direct', ms: 500 }),
    });
    expect(outside.status).toBe(401);
    const { patient } = await admittedCall(server);
    const answers = await patient.evaluate(async () => Promise.all([
      { outcome: 'direct' }, { outcome: 'direct', ms: -1 }, { outcome: 'fallback', reason: 'bored' }, { outcome: 'direct', ms: 5, phone: '07700 900123' },
    ].map(async (body) => {
      const res = await fetch('/api/v1/telemetry/p2p', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return [res.status, ((await res.json()) as { error: { code: string } }).error.code];
    })));
    expect(answers).toEqual(Array(4).fill([400, 'validation_failed']));
  });
});
