/**
 * /metrics on a real server after a whole consultation driven through the API and sockets:
 * consultations by status, participants, waiting time, first-frame reports, SMS outcomes, worker
 * CPU and memory, transports. Also: one log line per lifecycle event, with the consultation id
 * and no personal data; the optional metrics token; the report endpoint's validation and limit.
 */
import { Writable } from 'node:stream';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientToServerEvents, ServerToClientEvents } from '../../../signalling/events.js';
import { createLogger } from '../../../server/log.js';
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

/** The value of one sample line, e.g. sample(text, 'openconsult_consultations{status="waiting"}'). */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

async function redeem(code: string): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/links/${code}/redeem`, { method: 'POST' });
  expect(res.status).toBe(200);
  return (res.headers.getSetCookie()[0] ?? '').split(';')[0] as string;
}

async function connect(consultationId: string, cookie: string): Promise<ClientSocket> {
  const s: ClientSocket = io(server.url, {
    auth: { consultationId }, extraHeaders: { cookie }, transports: ['websocket'], reconnection: false, forceNew: true,
  });
  opened.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', reject);
  });
  return s;
}

function report(body: unknown) {
  return fetch(`${server.url}/api/v1/telemetry/first-frame`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
}

describe('metrics of a whole consultation', () => {
  it('follow creation, waiting, admission, media and the end', async () => {
    const before = await metrics();
    const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900555', patientName: 'Mae Metric', clinicianName: 'Dr Gauge' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const sms = (await server.outbox()).find((m) => m.consultationId === id);
    const patient = await connect(id, await redeem(codeOf(linkIn(sms!.body))));
    const clinician = await connect(id, await redeem(codeOf(created.body.clinicianUrl)));

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
    expect((await clinician.timeout(5000).emitWithAck('admit', { id: joined.data.self.id })).ok).toBe(true);
    expect((await report({ ms: 850, role: 'patient', relayed: false })).status).toBe(204);
    expect((await report({ ms: 1500, role: 'clinician', relayed: true })).status).toBe(204);

    text = await metrics();
    expect(sample(text, 'openconsult_consultations{status="in_call"}')).toBe(1);
    expect(sample(text, 'openconsult_participants{role="patient",presence="admitted"}')).toBe(1);
    expect(sample(text, 'openconsult_waiting_seconds_count{outcome="admitted"}')).toBe(1);
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
    for (const body of [{ ms: -1 }, { ms: 120_001 }, { ms: 1.5 }, { ms: '800' }, { ms: 800, extra: true }, { ms: 800, role: 'admin' }, {}]) {
      const res = await report(body);
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

      const statuses: number[] = [];
      for (let i = 0; i < 31; i++) {
        const res = await fetch(`${guarded.url}/api/v1/telemetry/first-frame`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms: 700 }),
        });
        statuses.push(res.status);
      }
      expect(statuses.slice(0, 30).every((s) => s === 204)).toBe(true);
      expect(statuses[30]).toBe(429);
    } finally {
      await guarded.close();
    }
  });
});
