/**
 * PostgreSQL stopped under load and started again (a real cluster of this file's own, the real
 * server on it): every answer is a 201 or a coded 503 `unavailable` with Retry-After, never a 500;
 * the process stays up; once PostgreSQL is back, consultations are created again within seconds
 * without restarting the node; nothing is half-written (each consultation has its people and
 * their links); and a deadline that fell due meanwhile fires once the database is back.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createLogger } from '../../../server/log.js';
import { type Engine, createDatabase, startPostgres } from '../../helpers/engines.js';
import { type TestServer, startServer } from '../../helpers/server.js';

let cluster: Engine;
let databaseUrl: string;
let server: TestServer;

beforeAll(async () => {
  cluster = await startPostgres();
  databaseUrl = await createDatabase(cluster.url, 'outage');
  server = await startServer({ databaseUrl });
});
afterAll(async () => {
  await server?.close();
  await cluster?.close();
});

async function query<R extends pg.QueryResultRow>(text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

/**
 * A fast shutdown (SIGINT: sessions are ended at once, as a restart or failover does). The
 * helper's stop() is a smart shutdown, which waits for the pool's connections to go idle.
 */
async function stopFast(): Promise<void> {
  const [{ data_directory: dir }] = await query<{ data_directory: string }>('SHOW data_directory') as [{ data_directory: string }];
  const pid = Number(readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  process.kill(pid, 'SIGINT');
  await cluster.stop();
}

interface Answer { status: number; code?: string; retryAfter: string | null; at: number; id?: string }

it('answers 201 or 503 unavailable while PostgreSQL is away, resumes by itself, and writes nothing by halves', async () => {
  const answers: Answer[] = [];
  let running = true;
  const worker = async () => {
    while (running) {
      const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123', patientName: 'Pat Example' });
      answers.push({ status: res.status, code: res.body?.error?.code, retryAfter: res.headers.get('retry-after'), at: Date.now(), id: res.body?.id });
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  const count = (status: number, since = 0) => answers.filter((a) => a.status === status && a.at >= since).length;
  try {
    await vi.waitFor(() => expect(count(201)).toBeGreaterThanOrEqual(8), { timeout: 10_000, interval: 20 });
    // Requests are in flight as PostgreSQL goes, and keep coming while it is away.
    await stopFast();
    const stopped = Date.now();
    await vi.waitFor(() => expect(count(503, stopped)).toBeGreaterThanOrEqual(10), { timeout: 10_000, interval: 20 });
    await cluster.start();
    const started = Date.now();
    await vi.waitFor(() => expect(count(201, started)).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 20 });
    const firstBack = answers.find((a) => a.status === 201 && a.at >= started) as Answer;
    // Service resumed within seconds of the database, with no restart of the node.
    expect(firstBack.at - started).toBeLessThan(5_000);
  } finally {
    running = false;
    await Promise.all(workers);
  }

  expect(answers.filter((a) => a.status !== 201 && a.status !== 503)).toEqual([]);
  for (const a of answers.filter((x) => x.status === 503)) {
    expect(a.code).toBe('unavailable');
    expect(Number(a.retryAfter)).toBeGreaterThan(0);
  }
  // The same node still answers (the process is up, nothing was restarted).
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

  // Nothing half-written: every consultation has a patient and a clinician, each with a link, and
  // its `created` audit event (the weekly report counts it); one still unused has its expiry timer.
  const broken = await query(`SELECT c.id FROM consultations c WHERE
    (SELECT COUNT(*) FROM participants p WHERE p.consultation_id = c.id) < 2
    OR EXISTS (SELECT 1 FROM participants p WHERE p.consultation_id = c.id
      AND NOT EXISTS (SELECT 1 FROM links l WHERE l.participant_id = p.id))
    OR NOT EXISTS (SELECT 1 FROM events e WHERE e.consultation_id = c.id AND e.type = 'created')
    OR (c.status = 'created' AND NOT EXISTS (SELECT 1 FROM deadlines d WHERE d.consultation_id = c.id AND d.kind = 'link_expiry'))`);
  expect(broken).toEqual([]);
  const ids = new Set((await query<{ id: string }>('SELECT id FROM consultations')).map((r) => r.id));
  for (const a of answers.filter((x) => x.status === 201)) expect(ids.has(a.id as string)).toBe(true);
});

it('fires a deadline that fell due while PostgreSQL was away once it is back, with nothing else happening', async () => {
  const lines: { msg?: string }[] = [];
  const logger = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const url = await createDatabase(cluster.url, 'outage_timers');
  const idle = await startServer({ databaseUrl: url, linkTtl: 2 }, { logger });
  try {
    const created = await idle.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123' });
    expect(created.status).toBe(201);
    await stopFast();
    // The link's expiry falls due while the database is away: the timer fires, and fails.
    await vi.waitFor(() => expect(lines.some((l) => l.msg === 'lifecycle timers failed')).toBe(true), { timeout: 10_000, interval: 50 });
    await cluster.start();
    // No request comes: the node tries again by itself, and the consultation expires (once).
    const status = async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query<{ status: string }>('SELECT status FROM consultations WHERE id = $1', [created.body.id])).rows[0]?.status;
      } finally {
        await client.end();
      }
    };
    await vi.waitFor(async () => expect(await status()).toBe('expired'), { timeout: 10_000, interval: 100 });
  } finally {
    await idle.close();
  }
});
