/**
 * Restarts of the real service process on the same data folder: after SIGKILL or SIGTERM,
 * consultations, unused links and pending expiries are all still right; on SIGTERM connected
 * clients are told the service is restarting and the process exits cleanly.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, linkIn } from '../../helpers/server.js';
import { type ServiceProcess, freePort, startService } from '../../helpers/process.js';

const API_KEY = 'restart-test-api-key-0123456789';
let dataDir: string;
let port: number;
let env: Record<string, string>;
const running: ServiceProcess[] = [];

async function start(): Promise<ServiceProcess> {
  const p = await startService(env, port);
  running.push(p);
  return p;
}

async function api(p: ServiceProcess, method: string, route: string, body?: unknown) {
  const res = await fetch(`${p.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}

async function patientLink(consultationId: string): Promise<string> {
  const lines = (await readFile(path.join(dataDir, 'sms-outbox.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  return linkIn(lines.find((l: { consultationId: string }) => l.consultationId === consultationId).body);
}

/** Polls the API until the consultation has `status` (the expiry is the server's own timer). */
async function statusBecomes(p: ServiceProcess, id: string, status: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if ((await api(p, 'GET', `/api/v1/consultations/${id}`)).body.status === status) return;
    if (Date.now() > until) throw new Error(`consultation ${id} did not become ${status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'openconsult-restart-'));
  port = await freePort();
  env = { DATA_DIR: dataDir, API_KEY, LINK_TTL: '6s', LOG_LEVEL: 'info' };
});

afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(running.map((p) => p.exited));
  await rm(dataDir, { recursive: true, force: true });
});

describe('restarting the service on the same data folder', () => {
  it('keeps consultations, unused links and pending expiries after SIGKILL', async () => {
    const first = await start();
    const expiring = await api(first, 'POST', '/api/v1/consultations', { patientPhone: '07700900123' });
    const kept = await api(first, 'POST', '/api/v1/consultations', { patientPhone: '07700900124' });
    expect(expiring.status).toBe(201);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    const second = await start();
    const after = await api(second, 'GET', `/api/v1/consultations/${expiring.body.id}`);
    expect(after.body).toMatchObject({ status: 'created', expiresAt: expiring.body.expiresAt });

    // An unused link from before the crash still works, once.
    const code = codeOf(await patientLink(kept.body.id));
    const redeemed = await fetch(`${second.url}/api/v1/links/${code}/redeem`, { method: 'POST' });
    expect(redeemed.status).toBe(200);

    // The expiry set before the crash still fires, at its time.
    await statusBecomes(second, expiring.body.id, 'expired', 10_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiring.body.expiresAt));
    second.child.kill('SIGKILL');
    await second.exited;
  });

  it('tells connected clients on SIGTERM, exits cleanly, and comes back with the same data', async () => {
    const first = await start();
    const c = await api(first, 'POST', '/api/v1/consultations', { patientPhone: '07700900125' });
    const redeem = await fetch(`${first.url}/api/v1/links/${codeOf(await patientLink(c.body.id))}/redeem`, { method: 'POST' });
    const cookie = (redeem.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const socket = io(first.url, { auth: { consultationId: c.body.id }, extraHeaders: { cookie }, reconnection: false });
    const joined = await socket.timeout(5000).emitWithAck('join', {});
    expect(joined.ok).toBe(true);

    const told = new Promise<void>((resolve) => socket.once('serviceRestarting', () => resolve()));
    first.child.kill('SIGTERM');
    await told;
    expect(await first.exited).toBe(0);
    socket.close();
    expect(first.output()).toContain('shutting down');

    const second = await start();
    const after = await api(second, 'GET', `/api/v1/consultations/${c.body.id}`);
    expect(after.body.status).toBe('waiting');
    // The session from before the restart still opens the consultation.
    const again = io(second.url, { auth: { consultationId: c.body.id }, extraHeaders: { cookie }, reconnection: false });
    const rejoined = await again.timeout(5000).emitWithAck('join', {});
    expect(rejoined).toMatchObject({ ok: true, data: { self: { presence: 'waiting' } } });
    again.close();
  });
});
