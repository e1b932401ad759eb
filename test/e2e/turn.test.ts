/**
 * Media through a real TURN relay (Debian's coturn on loopback) with relay-only ICE: video flows
 * with the relay over UDP and over TCP, using the ephemeral credentials the service hands out;
 * with a wrong shared secret the call cannot connect and the page says why.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeParticipants, waitForText } from '../helpers/browser.js';
import { type Coturn, startCoturn } from '../helpers/coturn.js';
import { freePort } from '../helpers/process.js';
import { admittedCall, decodes } from '../helpers/journey.js';
import { type TestServer, startServer } from '../helpers/server.js';

const SECRET = 'coturn-test-shared-secret';
let coturn: Coturn;
const servers: TestServer[] = [];

beforeAll(async () => {
  coturn = await startCoturn({ port: await freePort(), secret: SECRET, relayMinPort: 47300, relayMaxPort: 47399 });
});
afterEach(async () => {
  await closeParticipants();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await coturn?.close();
});

async function relayedCall(transport: 'udp' | 'tcp', secret: string) {
  const server = await startServer({
    turnUrls: [`turn:127.0.0.1:${coturn.port}?transport=${transport}`], turnSecret: secret, iceTransportPolicy: 'relay',
    rtcMinPort: 47400, rtcMaxPort: 47499,
  });
  servers.push(server);
  return admittedCall(server);
}

async function decodesThroughRelay(page: Page, protocol: 'udp' | 'tcp'): Promise<void> {
  await decodes(page, 20, 20_000);
  const { paths } = await page.evaluate(() => window.openconsult.stats());
  expect(paths.map((p) => p.direction).sort()).toEqual(['recv', 'send']);
  for (const p of paths) expect(p).toMatchObject({ localType: 'relay', relayProtocol: protocol });
}

describe('media through TURN', () => {
  it.each(['udp', 'tcp'] as const)('flows through the relay over %s with relay-only ICE', async (protocol) => {
    const { patient, clinician } = await relayedCall(protocol, SECRET);
    await Promise.all([decodesThroughRelay(patient, protocol), decodesThroughRelay(clinician, protocol)]);
  });

  it('fails with a clear message when the TURN secret is wrong', async () => {
    const { patient, clinician } = await relayedCall('udp', 'not-the-secret');
    await waitForText(clinician, "refused by the practice's relay server", 20_000);
    await waitForText(patient, "refused by the practice's relay server", 20_000);
    const stats = await clinician.evaluate(() => window.openconsult.stats());
    expect(stats.video.every((v) => v.framesDecoded === 0)).toBe(true);
    expect(stats.paths).toEqual([]);
  });
});
