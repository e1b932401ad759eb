/**
 * The upgrade in place: a data folder made by the version before many practices (schema 4, one
 * practice, one API key; test/fixtures/upgrade-v4/README.md says how) is started by today's
 * service with the same API_KEY and PRACTICE_NAME. It becomes the default practice, named from
 * config; the old key lists the old consultations as they were; the unused patient link still
 * redeems and the ended one is refused as before; the old audit events are the default
 * practice's; a new consultation works; migrations ran once, and a second start changes nothing.
 * The service runs on a clock that starts where the old one stopped (the link lives 24 hours).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { DB_FILE_NAME, DEFAULT_PRACTICE_ID } from '../../../server/store/db.js';
import { migrations } from '../../../server/store/migrations.js';
import { CONFIGURED_KEY_ID } from '../../../server/tenancy/api-keys.js';
import { type TestServer, startServer } from '../../helpers/server.js';

const fixtureDir = new URL('../../fixtures/upgrade-v4/', import.meta.url);
const fixture = JSON.parse(readFileSync(new URL('fixture.json', fixtureDir), 'utf8')) as {
  stoppedAt: number;
  apiKey: string;
  practiceName: string;
  consultations: Record<'ended' | 'unused', { id: string; status: string; patientCode: string }>;
};
const ODS = 'K81001';

const dataDir = mkdtempSync(path.join(tmpdir(), 'openconsult-upgrade-'));
const dbFile = path.join(dataDir, DB_FILE_NAME);
copyFileSync(new URL(DB_FILE_NAME, fixtureDir), dbFile);

const running = new Set<TestServer>();
afterAll(async () => {
  for (const s of running) await s.app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function stop(server: TestServer): Promise<void> {
  running.delete(server);
  await server.app.close();
}

/** Today's service on the upgraded folder, its clock a minute after the old service stopped. */
async function start(): Promise<TestServer> {
  const skew = Date.now() - (fixture.stoppedAt + 60_000);
  const server = await startServer(
    { dataDir, apiKey: fixture.apiKey, practiceName: fixture.practiceName, practiceOdsCode: ODS },
    { now: () => Date.now() - skew },
  );
  running.add(server);
  return server;
}

/** What an upgrade or a restart must leave as it was, read beside the service (WAL: it may run). */
function snapshot() {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const all = (sql: string) => db.prepare(sql).all();
    return {
      version: db.pragma('user_version', { simple: true }),
      practices: all('SELECT id, ods_code, name, notify_template_id, status, created_at FROM practices ORDER BY id'),
      keys: all('SELECT id, practice_id, name, key_hash, created_at, expires_at, revoked_at FROM api_keys ORDER BY id'),
      users: all('SELECT id, practice_id, email, roles, status FROM users ORDER BY id'),
      consultations: all('SELECT * FROM consultations ORDER BY id'),
      links: all('SELECT * FROM links ORDER BY code_hash'),
      events: all('SELECT * FROM events ORDER BY seq'),
    };
  } finally {
    db.close();
  }
}

it('upgrades a one-practice data folder in place, and a second start changes nothing', async () => {
  const before = new Database(dbFile, { readonly: true });
  expect(before.pragma('user_version', { simple: true })).toBe(4);
  before.close();

  const server = await start();
  const { store } = server.app;
  expect(await store.getPractice(DEFAULT_PRACTICE_ID)).toMatchObject({ name: fixture.practiceName, odsCode: ODS, status: 'active' });
  expect(await store.listPractices()).toHaveLength(1);
  expect(await store.getApiKey(CONFIGURED_KEY_ID)).toMatchObject({ practiceId: DEFAULT_PRACTICE_ID, revokedAt: null, expiresAt: null });

  // The old key lists the old consultations, as they were.
  const since = new Date(fixture.stoppedAt - 3600_000).toISOString();
  const list = await server.api('GET', `/api/v1/consultations?since=${encodeURIComponent(since)}`, undefined, fixture.apiKey);
  expect(list.status).toBe(200);
  const listed = (list.body.consultations as { id: string; status: string }[]).map((c) => [c.id, c.status]);
  expect(listed).toEqual(expect.arrayContaining(Object.values(fixture.consultations).map((c) => [c.id, c.status])));
  expect(listed).toHaveLength(2);

  // Their audit events are the default practice's, with the actors they had.
  const { ended, unused } = fixture.consultations;
  const events = await server.api('GET', `/api/v1/consultations/${ended.id}/events`, undefined, fixture.apiKey);
  expect(events.status).toBe(200);
  expect(events.body.events).toEqual(expect.arrayContaining([
    expect.objectContaining({ practiceId: DEFAULT_PRACTICE_ID, actor: 'api', type: 'created' }),
    expect.objectContaining({ practiceId: DEFAULT_PRACTICE_ID, type: 'status', detail: expect.objectContaining({ to: 'ended' }) }),
  ]));

  // The unused link redeems; the ended consultation's is refused as the old version refused it.
  const redeem = async (code: string) => {
    const res = await fetch(`${server.url}/api/v1/links/${code}/redeem`, { method: 'POST' });
    return { status: res.status, body: await res.json() };
  };
  expect(await redeem(unused.patientCode)).toMatchObject({ status: 200, body: { role: 'patient', consultationId: unused.id } });
  expect(await redeem(ended.patientCode)).toMatchObject({ status: 410, body: { error: { code: 'consultation_closed' } } });
  expect(await redeem(unused.patientCode)).toMatchObject({ status: 410, body: { error: { code: 'link_used' } } });

  // A new consultation works, under the default practice.
  const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '+447700900003', patientName: 'New Patient' }, fixture.apiKey);
  expect(created.status).toBe(201);
  expect(await store.getConsultation(created.body.id)).toMatchObject({ practiceId: DEFAULT_PRACTICE_ID });
  expect((await server.outbox()).at(-1)?.body).toMatch(new RegExp(`^${fixture.practiceName}: `));

  await stop(server);
  const upgraded = snapshot();
  // Every migration ran: the last one's number is the schema's version.
  expect(upgraded.version).toBe(migrations.length);

  // A second start: no migration runs again and nothing of the practice, keys, people or consultations changes.
  await start();
  expect(snapshot()).toEqual(upgraded);
}, 60_000);
