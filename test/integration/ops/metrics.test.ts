/**
 * /metrics on a real server after a whole consultation driven through the API and sockets:
 * consultations by status, participants, waiting time, first-frame reports, SMS outcomes, worker
 * CPU and memory, transports. Also: one log line per lifecycle event, with the consultation id
 * and no personal data; the optional metrics token; the report endpoint's validation and limit.
 */
import { connect as connectAs } from '../../helpers/participants.js';
import { Writable } from 'node:stream';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientToServerEvents, ServerToClientEvents } from '../../../signalling/events.js';
import { createLogger } from '../../../server/log.js';
import { sample } from '../../helpers/metrics.js';
import { type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
    done();
  },
});

let server: TestServer;
const opened: ClientSocket[] = [];

beforeAll(async () => {
  server = await startServer({ logLevel: 'info' }, { logger: createLogger('info', sink) });
});
afterEach(() => {
  for (const s of opened.splice(0)) s.disconnect();
});
afterAll(async () => {
  await server?.close();
});

async function metrics(url = server.url, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers });
  expect(res.status).toBe(200);
  return res.text();
}

async function redeem(code: string, url = server.url): Promise<string> {
  const res = await fetch(`${url}/api/v1/links/${code}/redeem`, { method: 'POST' });
  expect(res.status).toBe(200);
  return (res.headers.getSetCookie()[0] ?? '').split(';')[0] as string;
}

const connect = (consultationId: string, cookie: string) => connectAs(server, consultationId, cookie, opened);

/** A patient's session cookie in a new consultation on `on`. */
async function patientSession(on: TestServer = server): Promise<string> {
  const created = await on.api('POST', '/api/v1/consultations', { patientPhone: '07700 900556' });
  expect(created.status).toBe(201);
  const sms = (await on.outbox()).find((m) => m.consultationId === created.body.id);
  return redeem(codeOf(linkIn(sms!.body)), on.url);
}

/** A first-frame report, sent as the page sends it: with its session cookie (or none). */
function report(body: unknown, cookie: string | undefined, url = server.url) {
  return fetch(`${url}/api/v1/telemetry/first-frame`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body),
  });
}

describe('metrics of a whole consultation', () => {
  it('follow creation, waiting, admission, media and the end', async () => {
    const before = await metrics();
    const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900555', patientName: 'Mae Metric', clinicianName: 'Dr Gauge' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const sms = (await server.outbox()).find((m) => m.consultationId === id);
    const patientCookie = await redeem(codeOf(linkIn(sms!.body)));
    const clinicianCookie = await redeem(codeOf(created.body.clinicianUrl));
    const patient = await connect(id, patientCookie);
    const clinician = await connect(id, clinicianCookie);

    let text = await metrics();
    expect(sample(text, 'openconsult_sms_total{provider="outbox",result="sent"}')).toBe((sample(before, 'openconsult_sms_total{provider="outbox",result="sent"}') ?? 0) + 1);
    expect(sample(text, 'openconsult_consultations{status="created"}')).toBe(1);

    const joined = await patient.timeout(5000).emitWithAck('join', {});
    if (!joined.ok) throw new Error(joined.error.message);
    const transport = await patient.timeout(5000).emitWithAck('createTransport', { direction: 'send' });
    expect(transport.ok).toBe(true);
    expect((await clinician.timeout(5000).emitWithAck('join', {})).ok).toBe(true);

    text = await metrics();
    expect(sample(text, 'openconsult_consultations{status="waiting"}')).toBe(1);
    expect(sample(text, 'openconsult_participants{role="patient",presence="waiting"}')).toBe(1);
    expect(sample(text, 'openconsult_participants{role="clinician",presence="admitted"}')).toBe(1);
    expect(sample(text, 'openconsult_media_transports')).toBe(1);
    expect(sample(text, 'openconsult_media_sessions')).toBe(1);

    await new Promise((r) => setTimeout(r, 300)); // a measurable wait
    // The longest current wait: what the "patient waiting unseen" alert watches.
    expect(sample(await metrics(), 'openconsult_longest_wait_seconds')).toBeGreaterThanOrEqual(0.3);
    expect((await clinician.timeout(5000).emitWithAck('admit', { id: joined.data.self.id })).ok).toBe(true);
    expect((await report({ ms: 850, role: 'patient', relayed: false }, patientCookie)).status).toBe(204);
    expect((await report({ ms: 1500, role: 'clinician', relayed: true }, clinicianCookie)).status).toBe(204);

    text = await metrics();
    expect(sample(text, 'openconsult_consultations{status="in_call"}')).toBe(1);
    expect(sample(text, 'openconsult_participants{role="patient",presence="admitted"}')).toBe(1);
    expect(sample(text, 'openconsult_waiting_seconds_count{outcome="admitted"}')).toBe(1);
    expect(sample(text, 'openconsult_longest_wait_seconds')).toBe(0);
    expect(sample(text, 'openconsult_waiting_seconds_sum{outcome="admitted"}')).toBeGreaterThanOrEqual(0.3);
    expect(sample(text, 'openconsult_first_frame_seconds_count{role="patient"}')).toBe(1);
    expect(sample(text, 'openconsult_first_frame_seconds_bucket{le="1",role="patient"}')).toBe(1);
    expect(sample(text, 'openconsult_first_frame_seconds_bucket{le="1",role="clinician"}')).toBe(0);
    expect(sample(text, 'openconsult_media_paths_total{path="relay"}')).toBe(1);
    expect(sample(text, 'openconsult_media_paths_total{path="direct"}')).toBe(1);

    const [pid] = server.app.mediaWorkerPids();
    expect(sample(text, `openconsult_media_worker_resident_memory_bytes{pid="${pid}"}`)).toBeGreaterThan(1024 * 1024);
    expect(sample(text, `openconsult_media_worker_cpu_seconds_total{pid="${pid}"}`)).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'openconsult_media_workers')).toBe(1);
    expect(sample(text, 'openconsult_media_worker_deaths_total')).toBe(0);

    expect((await server.api('POST', `/api/v1/consultations/${id}/end`)).status).toBe(200);
    text = await metrics();
    expect(sample(text, 'openconsult_consultations{status="ended"}')).toBe(1);
    expect(sample(text, 'openconsult_consultations{status="in_call"}')).toBe(0);
    expect(sample(text, 'openconsult_consultation_transitions_total{to="ended"}')).toBe(1);
    expect(sample(text, 'openconsult_media_transports')).toBe(0);
    expect(sample(text, 'openconsult_media_sessions')).toBe(0);
    expect(text).not.toMatch(/openconsult_participants\{/);

    // One log line per lifecycle event, each with the consultation id, none with personal data.
    const statusLines = lines.filter((l) => l.consultationId === id && l.event === 'status');
    expect(statusLines.map((l) => l.to)).toEqual(['waiting', 'in_call', 'ended']);
    expect(lines.filter((l) => l.consultationId === id && l.event === 'created')).toHaveLength(1);
    const all = JSON.stringify(lines);
    for (const secret of ['Mae', 'Metric', 'Gauge', '900555']) expect(all).not.toContain(secret);
  });
});

describe('first-frame reports', () => {
  it('are refused unless they are a bounded whole number of milliseconds', async () => {
    const cookie = await patientSession();
    for (const body of [{ ms: -1 }, { ms: 120_001 }, { ms: 1.5 }, { ms: '800' }, { ms: 800, extra: true }, { ms: 800, role: 'admin' }, {}]) {
      const res = await report(body, cookie);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    }
  });
});

describe('metrics token', () => {
  it('protects /metrics when set, and rate-limits reports', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const guarded = await startServer({ metricsToken: token });
    try {
      const none = await fetch(`${guarded.url}/metrics`);
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      expect(await metrics(guarded.url, { authorization: `Bearer ${token}` })).toContain('openconsult_consultations');

      const cookie = await patientSession(guarded);
      const statuses: number[] = [];
      for (let i = 0; i < 31; i++) statuses.push((await report({ ms: 700 }, cookie, guarded.url)).status);
      expect(statuses.slice(0, 30).every((s) => s === 204)).toBe(true);
      expect(statuses[30]).toBe(429);
    } finally {
      await guarded.close();
    }
  });
});

describe('who may read /metrics without a token', () => {
  const from = (address: string, url = server.url) => fetch(`${url}/metrics`, { headers: { 'x-forwarded-for': address } });

  it('serves loopback clients only by default, judging the address a trusted proxy forwards', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
    // Through a proxy on this host (TRUST_PROXY's default) the client is the forwarded address.
    const outside = await from('198.51.100.7');
    expect(outside.status).toBe(403);
    expect(((await outside.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    expect((await from('127.0.0.1')).status).toBe(200);
  });

  it('serves the addresses in METRICS_ALLOW, and believes X-Forwarded-For only from TRUST_PROXY', async () => {
    const monitored = await startServer({ metricsAllow: ['198.51.100.0/24'] });
    const untrusting = await startServer({ trustProxy: ['192.0.2.1'] });
    try {
      expect((await from('198.51.100.7', monitored.url)).status).toBe(200);
      expect((await from('203.0.113.9', monitored.url)).status).toBe(403);
      expect((await fetch(`${monitored.url}/metrics`)).status).toBe(403);
      // Loopback is not a trusted proxy here: its X-Forwarded-For is ignored, the client is loopback.
      expect((await from('198.51.100.7', untrusting.url)).status).toBe(200);
    } finally {
      await monitored.close();
      await untrusting.close();
    }
  });
});

describe('first-frame reports need a session', () => {
  it('are refused without a valid session cookie and counted under the session\'s role', async () => {
    const none = await report({ ms: 900, role: 'patient' }, undefined);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await report({ ms: 900 }, 'oc_s_forged=eyJhbGciOiJub25lIn0.e30.')).status).toBe(401);

    const count = async (role: string) => sample(await metrics(), `openconsult_first_frame_seconds_count{role="${role}"}`) ?? 0;
    const [patients, clinicians] = [await count('patient'), await count('clinician')];
    // A patient's page cannot report as a clinician.
    expect((await report({ ms: 900, role: 'clinician' }, await patientSession())).status).toBe(204);
    expect(await count('patient')).toBe(patients + 1);
    expect(await count('clinician')).toBe(clinicians);
  });
});
