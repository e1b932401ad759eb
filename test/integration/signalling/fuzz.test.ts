/**
 * 2,000 random and malformed socket events, over every client event of the contract (the list is
 * the `clientEvents` table, so a new event cannot be missed), (wrong types, huge strings, deep nesting, __proto__
 * keys, unknown names, later-phase events sent too early, ids of another consultation) from a
 * waiting patient and a clinician; afterwards the process and the consultation are healthy
 * and the normal flow (admit, transports) still works.
 */
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientEvents } from '../../../signalling/events.js';
import { type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

let server: TestServer;
const sockets: Socket[] = [];

beforeAll(async () => {
  // Every event must reach its schema and handler: the per-connection rate limit (tested in
  // limits.test.ts) would otherwise refuse most of them before.
  server = await startServer({ socketEventBurst: 1_000_000 });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

/** A small deterministic PRNG, so a failure can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

async function consultationWithSessions() {
  const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700900123', patientName: 'Ann' });
  const code = codeOf(linkIn((await server.outbox()).find((m) => m.consultationId === created.body.id)!.body));
  const cookieOf = async (c: string) =>
    ((await fetch(`${server.url}/api/v1/links/${c}/redeem`, { method: 'POST' })).headers.get('set-cookie') ?? '').split(';')[0] as string;
  return { id: created.body.id as string, patient: await cookieOf(code), clinician: await cookieOf(codeOf(created.body.clinicianUrl)) };
}

function connect(consultationId: string, cookie: string): Socket {
  // WebSocket only: over long-polling the client batches queued events into one over-limit request.
  const s = io(server.url, { auth: { consultationId }, extraHeaders: { cookie }, reconnection: false, transports: ['websocket'] });
  sockets.push(s);
  return s;
}

const events = Object.keys(clientEvents);
const isEmptyObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;

function randomValue(r: () => number, depth = 0, otherIds: string[] = []): unknown {
  const pick = Math.floor(r() * 12);
  switch (pick) {
    case 0: return null;
    case 1: return Math.floor(r() * 2 ** 40) * (r() < 0.5 ? -1 : 1);
    case 2: return 'x'.repeat(Math.floor(r() * 40_000)); // huge, under the 64 KB frame limit
    case 3: return r() < 0.5;
    case 4: return otherIds[Math.floor(r() * otherIds.length)] ?? 'abc';
    case 5: return [randomValue(r, depth + 1, otherIds), randomValue(r, depth + 1, otherIds)];
    case 6: { // deep nesting
      let v: unknown = {};
      for (let i = 0; i < 200; i++) v = { a: v };
      return v;
    }
    case 7: return JSON.parse('{"__proto__": {"polluted": true}, "id": "abc"}');
    case 8: return { direction: r() < 0.5 ? 'send' : 'sideways', transportId: 'nope' };
    case 9: return { id: otherIds[0] ?? 'x', producerId: 'p', rtpCapabilities: { codecs: 'no' } };
    case 10: return depth < 3 ? { [`k${Math.floor(r() * 100)}`]: randomValue(r, depth + 1, otherIds) } : {};
    default: return 'constructor';
  }
}

describe('hostile socket input', () => {
  it('survives 2,000 random and malformed events and then holds a normal consultation', async () => {
    const other = await consultationWithSessions();
    const c = await consultationWithSessions();
    const patient = connect(c.id, c.patient);
    const clinician = connect(c.id, c.clinician);
    const intruder = connect(other.id, other.patient);
    const pJoin = await patient.timeout(5000).emitWithAck('join', {});
    expect(pJoin.ok).toBe(true);
    expect((await clinician.timeout(5000).emitWithAck('join', {})).ok).toBe(true);
    const otherJoin = await intruder.timeout(5000).emitWithAck('join', {});
    const otherIds = [other.id, otherJoin.data.self.id];

    const r = prng(20261124);
    const acks: unknown[] = [];
    const sent = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const from = i % 2 === 0 ? patient : clinician;
      const name = r() < 0.1 ? `unknown${i}` : (events[Math.floor(r() * events.length)] as string);
      const payload = randomValue(r, 0, otherIds);
      // A valid leave or end would legitimately end the test's consultation; malformed ones are sent.
      if ((name === 'leave' || name === 'end') && isEmptyObject(payload)) continue;
      sent.set(name, (sent.get(name) ?? 0) + 1);
      if (r() < 0.2) from.emit(name, payload); // no ack function at all
      else from.emit(name, payload, (res: unknown) => acks.push(res));
    }
    expect(events).toEqual(expect.arrayContaining(['pauseProducer', 'chat', 'messageWaiting']));
    for (const name of events) expect(sent.get(name) ?? 0, name).toBeGreaterThan(20);
    // Events are handled in order per socket: once these are answered, everything before has been.
    const barrier = await Promise.all([patient, clinician].map((s) => s.timeout(10_000).emitWithAck('createTransport', { direction: 'recv' })));
    expect(barrier.every((b) => b.ok)).toBe(true);

    expect(acks.length).toBeGreaterThan(500);
    for (const a of acks as { ok: boolean; error?: { code: string; message: string } }[]) {
      if (a.ok) continue; // a random payload can be valid (e.g. a recv transport)
      expect(Object.keys(a.error ?? {}).sort()).toEqual(['code', 'message']);
      expect(a.error?.code).not.toBe('internal');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    // The process and both consultations are healthy: the normal flow works.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await server.api('GET', `/api/v1/consultations/${other.id}`)).body.status).toBe('waiting');
    const admitted = new Promise<void>((resolve) => patient.once('admitted', () => resolve()));
    expect((await clinician.timeout(5000).emitWithAck('admit', { id: pJoin.data.self.id })).ok).toBe(true);
    await admitted;
    expect((await server.api('GET', `/api/v1/consultations/${c.id}`)).body.status).toBe('in_call');
    const t = await patient.timeout(5000).emitWithAck('createTransport', { direction: 'send' });
    expect(t).toMatchObject({ ok: true, data: { id: expect.any(String) } });
  });
});
