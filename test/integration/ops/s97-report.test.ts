/**
 * S97 weekly counts from the audit log: a fixture week written through the real store (calls of
 * set lengths, every way of not being held, consultations just outside the week's edges and across
 * the October clocks change), read by the report module, the CLI as a process on the data folder,
 * and the operators' API route of the real service. A second practice's consultations the same
 * week are counted in its own row, never in the first's.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoWeekBounds, s97Csv, s97Report } from '../../../server/reports/s97.js';
import { projectRoot } from '../../../server/paths.js';
import { DB_FILE_NAME, DEFAULT_PRACTICE_ID, openDb } from '../../../server/store/db.js';
import { SqliteStore } from '../../../server/store/sqlite/store.js';
import { TEST_API_KEY, type TestServer, startServer } from '../../helpers/server.js';

const run = promisify(execFile);
const MIN = 60_000;
const at = (iso: string) => Date.parse(iso);

let dataDir: string;
let store: SqliteStore;

/** The practices: A is the default practice (the fixture's week is its; its ODS code is PRACTICE_ODS_CODE's), B a second one. */
const A = { id: DEFAULT_PRACTICE_ID, odsCode: 'A81001' };
const B = { id: 'practice-b', odsCode: 'B82002' };

/** One consultation's audit events: created at `created`, then each [status, minutes after creation, reason?]. */
async function consultation(id: string, created: number, moves: [string, number, string?][], practiceId = A.id) {
  await store.appendEvent({ consultationId: id, practiceId, at: created, actor: 'key:k', type: 'created', detail: { expiresAt: created + 60 * MIN } });
  let from = 'created';
  for (const [to, minutes, reason] of moves) {
    await store.appendEvent({
      consultationId: id, practiceId, at: created + minutes * MIN, actor: 'system', type: 'status', detail: { from, to, ...(reason ? { reason } : {}) },
    });
    from = to;
  }
}

const call = (start: number, minutes: number, reason = 'ended_by_clinician'): [string, number, string?][] =>
  [['waiting', start - 1], ['in_call', start], ['ended', start + minutes, reason]];

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'openconsult-s97-'));
  store = new SqliteStore(openDb(path.join(dataDir, DB_FILE_NAME)));
  await store.addPractice({ ...B, name: 'Riverside Surgery', notifyTemplateId: null, status: 'active', createdAt: Date.now() });
  // 2026-W48: Monday 23 November 2026 00:00 GMT (= UTC) to Monday 30 November.
  await consultation('a', at('2026-11-23T00:00:00.000Z'), call(10, 4 + 59 / 60)); // first instant of the week; < 5 min
  await consultation('b', at('2026-11-24T09:00:00Z'), call(2, 5)); // exactly 5 min: 5-10
  await consultation('c', at('2026-11-25T09:00:00Z'), call(2, 19)); // 10-20
  await consultation('d', at('2026-11-26T09:00:00Z'), call(2, 45)); // 20+
  await consultation('e', at('2026-11-27T09:00:00Z'), call(2, 20, 'room_empty')); // exactly 20 min: 20+
  await consultation('f', at('2026-11-28T09:00:00Z'), [['expired', 60, 'link_expired']]);
  await consultation('g', at('2026-11-28T10:00:00Z'), [['waiting', 1], ['expired', 31, 'waiting_timeout']]);
  await consultation('h', at('2026-11-29T23:59:59.999Z'), [['ended', 0, 'ended_by_clinician']]); // last instant; no call
  await consultation('i', at('2026-11-29T12:00:00Z'), [['waiting', 1]]); // still waiting
  await consultation('j', at('2026-11-29T13:00:00Z'), [['waiting', 1], ['in_call', 2]]); // call not ended yet
  // Just outside: the week before (its call ends inside this week) and the week after.
  await consultation('x1', at('2026-11-22T23:59:59.999Z'), call(5, 10));
  await consultation('x2', at('2026-11-30T00:00:00.000Z'), call(5, 10));
  // 2026-W43 has the clocks change (Sunday 25 October, 02:00 BST -> 01:00 GMT): it starts Monday
  // 19 October 00:00 BST = 18 October 23:00 UTC and lasts 169 hours.
  await consultation('k', at('2026-10-18T23:30:00Z'), []); // Monday 00:30 BST: W43
  await consultation('l', at('2026-10-18T22:59:59Z'), []); // Sunday 23:59:59 BST: W42
  await consultation('m', at('2026-10-25T23:30:00Z'), []); // Sunday 23:30 GMT: W43
  // Practice B's week: a 3-minute call and an unused link, and one the week before.
  await consultation('p', at('2026-11-24T10:00:00Z'), call(2, 3), B.id);
  await consultation('q', at('2026-11-25T10:00:00Z'), [['expired', 60, 'link_expired']], B.id);
  await consultation('r', at('2026-11-20T10:00:00Z'), call(2, 30), B.id);
});
afterAll(async () => {
  await store?.close();
});

const W48 = {
  offered: 10, held: 6, notHeldLinkExpired: 1, notHeldWaitingTimeout: 1, notHeldEndedWithoutCall: 1, open: 1,
  callsUnder5Min: 1, calls5To10Min: 1, calls10To20Min: 1, calls20MinPlus: 2, callsUnfinished: 1,
};
const W48_CSV = [
  'week,from,to,odsCode,offered,held,notHeldLinkExpired,notHeldWaitingTimeout,notHeldEndedWithoutCall,open,callsUnder5Min,calls5To10Min,calls10To20Min,calls20MinPlus,callsUnfinished',
  '2026-W48,2026-11-23T00:00:00.000Z,2026-11-30T00:00:00.000Z,A81001,10,6,1,1,1,1,1,1,1,2,1',
  '',
].join('\n');
const B_W48 = {
  offered: 2, held: 1, notHeldLinkExpired: 1, notHeldWaitingTimeout: 0, notHeldEndedWithoutCall: 0, open: 0,
  callsUnder5Min: 1, calls5To10Min: 0, calls10To20Min: 0, calls20MinPlus: 0, callsUnfinished: 0,
};
/** The command reports every practice of the deployment, one row each. */
const BOTH_CSV = `${W48_CSV}2026-W48,2026-11-23T00:00:00.000Z,2026-11-30T00:00:00.000Z,B82002,2,1,1,0,0,0,1,0,0,0,0\n`;

describe('S97 weeks', () => {
  it('run Monday to Monday in Europe/London, across the clocks change too', () => {
    expect(isoWeekBounds('2026-W48')).toEqual({ from: at('2026-11-23T00:00:00Z'), to: at('2026-11-30T00:00:00Z') });
    expect(isoWeekBounds('2026-W43')).toEqual({ from: at('2026-10-18T23:00:00Z'), to: at('2026-10-26T00:00:00Z') });
    expect(isoWeekBounds('2026-W13')).toEqual({ from: at('2026-03-23T00:00:00Z'), to: at('2026-03-29T23:00:00Z') });
    expect(isoWeekBounds('2027-W01')).toEqual({ from: at('2027-01-04T00:00:00Z'), to: at('2027-01-11T00:00:00Z') });
    expect(isoWeekBounds('2026-W53').from).toBe(at('2026-12-28T00:00:00Z'));
  });

  it.each(['2025-W53', '2026-W00', '2026-W54', '2026-48', 'W48', ''])('refuse %j with validation_failed', (week) => {
    expect(() => isoWeekBounds(week)).toThrow(expect.objectContaining({ code: 'validation_failed' }));
  });
});

describe('S97 report', () => {
  it('counts the fixture week exactly, in JSON and CSV, with no personal data', async () => {
    const report = await s97Report(store, '2026-W48', [A]);
    expect(report).toEqual({
      week: '2026-W48', timeZone: 'Europe/London', from: '2026-11-23T00:00:00.000Z', to: '2026-11-30T00:00:00.000Z',
      practices: [{ odsCode: 'A81001', ...W48 }],
    });
    expect(s97Csv(report)).toBe(W48_CSV);
  });

  it('counts by the practice clock across the clocks change', async () => {
    expect((await s97Report(store, '2026-W43', [A])).practices).toEqual([expect.objectContaining({ odsCode: 'A81001', offered: 2, open: 2 })]);
    expect((await s97Report(store, '2026-W42', [A])).practices[0]?.offered).toBe(1);
  });

  it('counts two practices apart, one row each', async () => {
    expect((await s97Report(store, '2026-W48', [A, B])).practices).toEqual([{ odsCode: 'A81001', ...W48 }, { odsCode: 'B82002', ...B_W48 }]);
    expect((await s97Report(store, '2026-W48', [B])).practices).toEqual([{ odsCode: 'B82002', ...B_W48 }]);
    expect((await s97Report(store, '2026-W47', [A, B])).practices.map((p) => p.offered)).toEqual([1, 1]);
  });

  it('runs as a command on the data folder (npm run report)', async () => {
    // The default practice's ODS code comes from PRACTICE_ODS_CODE, as the service sets it at start.
    const env = { PATH: process.env.PATH, DATA_DIR: dataDir, PRACTICE_ODS_CODE: 'A81001' };
    const script = path.join(projectRoot, 'scripts', 'report.ts');
    const csv = await run(process.execPath, ['--import', 'tsx', script, 's97', '--week', '2026-W48', '--format', 'csv'], { env, cwd: projectRoot });
    expect(csv.stdout).toBe(BOTH_CSV);
    const json = await run(process.execPath, ['--import', 'tsx', script, 's97', '--week', '2026-W48'], { env, cwd: projectRoot });
    expect(JSON.parse(json.stdout).practices).toEqual([{ odsCode: 'A81001', ...W48 }, { odsCode: 'B82002', ...B_W48 }]);
    const bad = await run(process.execPath, ['--import', 'tsx', script, 's97', '--week', '2026-W54'], { env, cwd: projectRoot }).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('ISO week');
  });
});

describe('GET /api/v1/reports/s97', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ dataDir, practiceOdsCode: 'A81001' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers operators with the API key, in JSON and CSV', async () => {
    const json = await server.api('GET', '/api/v1/reports/s97?week=2026-W48&format=json');
    expect(json.status).toBe(200);
    expect(json.body.practices).toEqual([{ odsCode: 'A81001', ...W48 }]);
    const csv = await fetch(`${server.url}/api/v1/reports/s97?week=2026-W48&format=csv`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await csv.text()).toBe(W48_CSV);
  });

  it('answers each practice\'s key with its own practice\'s row only', async () => {
    const { key } = await server.app.keys.create(B.id, 'B practice system', 'system');
    const res = await server.api('GET', '/api/v1/reports/s97?week=2026-W48', undefined, key);
    expect(res.status).toBe(200);
    expect(res.body.practices).toEqual([{ odsCode: 'B82002', ...B_W48 }]);
  });

  it('refuses a request without the key', async () => {
    const res = await server.api('GET', '/api/v1/reports/s97?week=2026-W48', undefined, 'wrong-key');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
    expect((await fetch(`${server.url}/api/v1/reports/s97?week=2026-W48`)).status).toBe(401);
  });

  it.each(['2026-48', '2026-W54', 'next', ''])('answers a bad week %j with 400 validation_failed', async (week) => {
    const res = await server.api('GET', `/api/v1/reports/s97?week=${encodeURIComponent(week)}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
  });

  it('answers a bad format with 400 validation_failed', async () => {
    const res = await server.api('GET', '/api/v1/reports/s97?week=2026-W48&format=xml');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
  });
});
