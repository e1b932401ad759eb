/**
 * /metrics of two nodes of one region (real Redis and PostgreSQL, real socket.io clients):
 * each names itself, sees both nodes and which drains, counts the consultation it placed, the
 * one held here, and the `moved` answer that sent a page to the other node.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Engine, createDatabase, startPostgres, startRedis } from '../../helpers/engines.js';
import { sample } from '../../helpers/metrics.js';
import { type ClientSocket, connect, joined, patientLink, redeem } from '../../helpers/participants.js';
import { type Region, startRegion } from '../../helpers/region.js';
import type { TestServer } from '../../helpers/server.js';

let redis: Engine;
let postgres: Engine;
let region: Region;
let a: TestServer;
let b: TestServer;
const opened: ClientSocket[] = [];

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  region = await startRegion({ redisUrl: redis.url, databaseUrl: await createDatabase(postgres.url, 'region_metrics'), nodeIds: ['node-m1', 'node-m2'] });
  [a, b] = region.nodes as [TestServer, TestServer];
});
afterEach(() => {
  for (const s of opened.splice(0)) s.disconnect();
});
afterAll(async () => {
  await region?.close();
  await Promise.all([redis?.close(), postgres?.close()]);
});

async function scrape(node: TestServer): Promise<string> {
  const res = await fetch(`${node.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** Scrapes `node` until `ok` holds of its figures (the registry is read at each scrape). */
async function scrapeUntil(node: TestServer, ok: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = await scrape(node);
    if (ok(text) || Date.now() > until) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('region metrics on two nodes', () => {
  it('name each node, count the region, the placement, the call held here and the moved answer; show a draining node', async () => {
    expect(sample(await scrape(a), 'openconsult_node_info{node="node-m1",mode="region"}')).toBe(1);
    expect(sample(await scrape(b), 'openconsult_node_info{node="node-m2",mode="region"}')).toBe(1);
    for (const node of [a, b]) {
      const text = await scrapeUntil(node, (t) => sample(t, 'openconsult_region_nodes{draining="false"}') === 2);
      expect(sample(text, 'openconsult_region_nodes{draining="false"}')).toBe(2);
      expect(sample(text, 'openconsult_region_registry_up')).toBe(1);
    }

    // The patient joins through a, which places the consultation (on itself: both are empty, ties stay here).
    const created = await a.api('POST', '/api/v1/consultations', { patientPhone: '07700 900562' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const patient = await redeem(a, await patientLink(a, id));
    await joined(a, id, patient.cookie, opened);
    let text = await scrape(a);
    expect(sample(text, 'openconsult_placements_total{from="new",to="this_node"}')).toBe(1);
    expect(sample(text, 'openconsult_node_live_consultations')).toBe(1);
    expect(sample(await scrape(b), 'openconsult_node_live_consultations')).toBe(0);

    // The clinician's page reaches b first: b answers `moved` to a's path, and counts it.
    const clinician = await redeem(b, created.body.clinicianUrl);
    const refused = await connect(b, id, clinician.cookie, opened).then(() => undefined, (err: { data?: { code?: string; path?: string } }) => err.data);
    expect(refused).toEqual(expect.objectContaining({ code: 'moved', path: '/node/node-m1/socket.io' }));
    expect(sample(await scrape(b), 'openconsult_socket_moved_total')).toBe(1);
    expect(sample(await scrape(a), 'openconsult_socket_moved_total')).toBe(0);

    // b drains: both nodes see one ready node and one draining.
    b.app.drain();
    expect(sample(await scrape(b), 'openconsult_node_draining')).toBe(1);
    for (const node of [a, b]) {
      text = await scrapeUntil(node, (t) => sample(t, 'openconsult_region_nodes{draining="true"}') === 1);
      expect(sample(text, 'openconsult_region_nodes{draining="false"}')).toBe(1);
      expect(sample(text, 'openconsult_region_nodes{draining="true"}')).toBe(1);
    }
  });
});
