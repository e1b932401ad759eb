/**
 * Two nodes on one PostgreSQL database (two real servers, same API key and session secret):
 * a link redeemed on both at the same instant is used once, and 100 redemptions of one link at
 * once make one session. Also: three nodes starting at once on an empty database migrate it once.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../../server/log.js';
import { migrations } from '../../../server/store/migrations.js';
import { PgStore } from '../../../server/store/pg/store.js';
import { createDatabase } from '../../helpers/engines.js';
import { type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

const SESSION_SECRET = 'two-nodes-session-secret-0123456789abcdef';
let databaseUrl: string;
let nodes: TestServer[] = [];

beforeAll(async () => {
  databaseUrl = await createDatabase(inject('pgClusterUrl'), `two_nodes_${process.pid}`);
  nodes = await Promise.all([0, 1].map(() => startServer({ databaseUrl, sessionSecret: SESSION_SECRET })));
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
});

/** A consultation made on the first node, and its patient's link code (from that node's SMS outbox). */
async function patientCode(): Promise<string> {
  const [a] = nodes as [TestServer];
  const res = await a.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123' });
  expect(res.status).toBe(201);
  const sms = (await a.outbox()).find((m) => m.consultationId === res.body.id);
  if (!sms) throw new Error('no SMS for the new consultation');
  return codeOf(linkIn(sms.body));
}

const redeemOn = async (node: TestServer, code: string) => {
  const res = await fetch(`${node.url}/api/v1/links/${code}/redeem`, { method: 'POST' });
  return { status: res.status, body: await res.json() as { error?: { code: string } } };
};

describe('two nodes, one link, the same instant', () => {
  it('redeems each of 20 links on exactly one node; the other answers link_used', async () => {
    const codes = await Promise.all(Array.from({ length: 20 }, () => patientCode()));
    for (const code of codes) {
      const answers = await Promise.all(nodes.map((n) => redeemOn(n, code)));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 410]);
      expect(answers.find((a) => a.status === 410)?.body).toEqual({ error: { code: 'link_used', message: expect.any(String) } });
    }
  });

  it('makes one session of 100 redemptions of one link at once, across both nodes', async () => {
    const code = await patientCode();
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => redeemOn(nodes[i % 2] as TestServer, code)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 410 && a.body.error?.code === 'link_used')).toHaveLength(99);
  });
});

describe('migration at start', () => {
  it('migrates an empty database once when three nodes start at the same instant', async () => {
    const url = await createDatabase(inject('pgClusterUrl'), `three_starts_${process.pid}`);
    const stores = await Promise.all([0, 1, 2].map(() => PgStore.open(url, createLogger('silent'))));
    try {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        expect((await client.query('SELECT version FROM schema_version')).rows).toEqual([{ version: migrations.length }]);
        // The default practice is inserted by a migration: once, not three times.
        expect((await client.query('SELECT id FROM practices')).rows).toEqual([{ id: 'default' }]);
      } finally {
        await client.end();
      }
      for (const store of stores) expect((await store.listPractices()).map((p) => p.id)).toEqual(['default']);
      // And a fourth start later finds nothing to do.
      await (await PgStore.open(url, createLogger('silent'))).close();
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
