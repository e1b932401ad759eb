/**
 * /metrics of a real server names its node and follows it: consultations live here, draining,
 * and the region's nodes as its cluster sees them (the embedded default is a region of one).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sample } from '../../helpers/metrics.js';
import { type ClientSocket, joined, patientLink, redeem } from '../../helpers/participants.js';
import { type TestServer, startServer } from '../../helpers/server.js';

let server: TestServer;
const opened: ClientSocket[] = [];

beforeAll(async () => {
  server = await startServer({ nodeId: 'node-m1' });
});
afterEach(() => {
  for (const s of opened.splice(0)) s.disconnect();
});
afterAll(async () => {
  await server?.close();
});

async function scrape(): Promise<string> {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}


describe('node and region metrics', () => {
  it('name the node, count the consultations live on it, and show it draining', async () => {
    let text = await scrape();
    expect(sample(text, 'openconsult_node_info{node="node-m1",mode="single"}')).toBe(1);
    expect(sample(text, 'openconsult_node_live_consultations')).toBe(0);
    expect(sample(text, 'openconsult_node_draining')).toBe(0);
    expect(sample(text, 'openconsult_region_nodes{draining="false"}')).toBe(1);
    expect(sample(text, 'openconsult_region_nodes{draining="true"}')).toBe(0);
    expect(sample(text, 'openconsult_region_registry_up')).toBe(1);

    const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900561' });
    expect(created.status).toBe(201);
    const patient = await redeem(server, await patientLink(server, created.body.id));
    await joined(server, created.body.id, patient.cookie, opened);
    text = await scrape();
    expect(sample(text, 'openconsult_node_live_consultations')).toBe(1);
    // The single node places nothing: every consultation is here, and no handshake is moved.
    expect(text).not.toMatch(/^openconsult_placements_total\{/m);
    expect(sample(text, 'openconsult_socket_moved_total')).toBe(0);

    server.app.drain();
    text = await scrape();
    expect(sample(text, 'openconsult_node_draining')).toBe(1);
    expect(sample(text, 'openconsult_region_nodes{draining="false"}')).toBe(0);
    expect(sample(text, 'openconsult_region_nodes{draining="true"}')).toBe(1);
  });
});
