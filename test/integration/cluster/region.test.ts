/**
 * Two nodes of one region in this process (real Redis, one PostgreSQL database, real socket.io
 * clients, real mediasoup): what one node does about a consultation reaches the node that holds it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerToClientEvents } from '../../../signalling/events.js';
import { type Engine, createDatabase, startPostgres, startRedis } from '../../helpers/engines.js';
import { type ClientSocket, connect, joined, patientLink, redeem } from '../../helpers/participants.js';
import { type Region, startRegion } from '../../helpers/region.js';
import { type TestServer, codeOf } from '../../helpers/server.js';

/** Node b's clock runs this far ahead, past the reconnect grace: it takes every deadline before a does. */
const B_AHEAD_MS = 25_000;

let redis: Engine;
let postgres: Engine;
let region: Region;
let a: TestServer;
let b: TestServer;
const opened: ClientSocket[] = [];

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  region = await startRegion({
    redisUrl: redis.url, databaseUrl: await createDatabase(postgres.url, 'region'), nodeIds: ['a', 'b'],
    overrides: { rateLimitRedeem: 3, reconnectGrace: 20 },
    appOptions: { b: { now: () => Date.now() + B_AHEAD_MS } },
  });
  [a, b] = region.nodes as [TestServer, TestServer];
});
afterEach(() => {
  for (const s of opened.splice(0)) s.disconnect();
});
afterAll(async () => {
  await region?.close();
  await Promise.all([redis?.close(), postgres?.close()]);
});

/** A consultation created through `server`, with both sessions redeemed. */
async function consultation(server: TestServer) {
  const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123', patientName: 'Pat', clinicianName: 'Dr Jones' });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  return { id, patient: await redeem(server, await patientLink(server, id)), clinician: await redeem(server, created.body.clinicianUrl) };
}

/** Node `id` of the region. */
const node = (id: string) => (id === 'a' ? a : b);

/**
 * Joins through node a, as a page reaching it through the load balancer would, and follows
 * `moved` to the node holding the consultation (placed by load): the socket and that node.
 */
async function joinedAnywhere(consultationId: string, cookie: string): Promise<{ socket: ClientSocket; holder: string }> {
  try {
    return { socket: (await joined(a, consultationId, cookie, opened)).socket, holder: 'a' };
  } catch (err) {
    const path = (err as { data?: { code?: string; path?: string } }).data?.path;
    const holder = /^\/node\/([a-z0-9-]+)\/socket\.io$/.exec(path ?? '')?.[1];
    if (!holder) throw err;
    return { socket: (await joined(node(holder), consultationId, cookie, opened)).socket, holder };
  }
}

/** A call in progress on whichever node holds it (`holder`); `other` is the other node. */
async function call() {
  const c = await consultation(a);
  const { socket: clinician, holder } = await joinedAnywhere(c.id, c.clinician.cookie);
  const patient = (await joined(node(holder), c.id, c.patient.cookie, opened)).socket;
  const admitted = next(patient, 'admitted');
  expect(await clinician.timeout(5000).emitWithAck('admit', { id: c.patient.participantId })).toEqual({ ok: true, data: {} });
  await admitted;
  return { ...c, clinicianSocket: clinician, patientSocket: patient, holder, other: holder === 'a' ? 'b' : 'a' };
}

function next<E extends keyof ServerToClientEvents>(s: ClientSocket, event: E, where: (arg: Parameters<ServerToClientEvents[E]>[0]) => boolean = () => true): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve) => {
    const on = (arg: Parameters<ServerToClientEvents[E]>[0]) => {
      if (!where(arg)) return;
      s.off(event, on as never);
      resolve(arg);
    };
    s.on(event, on as never);
  });
}

describe('a region of two nodes', () => {
  it('has a reconnect deadline that another node takes answered by the node holding the call', async () => {
    const c = await call();
    // First in the file: both nodes are empty, so the tie goes to a, the node asked.
    expect(c.holder).toBe('a');
    const reconnecting = next(c.clinicianSocket, 'participant', (p) => p.presence === 'reconnecting');
    const gone = next(c.clinicianSocket, 'participant', (p) => p.presence === 'left');
    c.patientSocket.disconnect();
    await reconnecting;
    // b's clock is past the grace (20 s) at once, a's is not; only a knows the presence.
    expect(await gone).toMatchObject({ id: c.patient.participantId, presence: 'left' });
    expect((await node(c.other).api('GET', `/api/v1/consultations/${c.id}`)).body.status).toBe('in_call');
  });

  it('tells a page that reached the other node to connect to the node holding its consultation', async () => {
    const c = await consultation(a);
    const { holder } = await joinedAnywhere(c.id, c.clinician.cookie);
    const other = holder === 'a' ? b : a;
    const refused = await connect(other, c.id, c.patient.cookie, opened).then(() => undefined, (err: { data?: unknown }) => err);
    expect(refused?.data).toEqual({ code: 'moved', message: expect.any(String), path: `/node/${holder}/socket.io` });
  });

  it('shows on the console of one node a patient waiting in a room held on the other', async () => {
    const c = await consultation(a);
    const { holder } = await joinedAnywhere(c.id, c.patient.cookie);
    const list = await node(holder === 'a' ? 'b' : 'a').api('GET', '/api/v1/consultations');
    expect(list.status).toBe(200);
    expect(list.body.consultations.find((x: { id: string }) => x.id === c.id)).toMatchObject({ status: 'waiting', waitingSince: expect.any(String), inCall: 0 });
  });

  it('ends a call held on one node through the API of the other', async () => {
    const c = await call();
    const ended = [next(c.patientSocket, 'consultationEnded'), next(c.clinicianSocket, 'consultationEnded')];
    expect((await node(c.other).api('POST', `/api/v1/consultations/${c.id}/end`)).status).toBe(200);
    expect(await Promise.all(ended)).toEqual([{ reason: 'ended_by_api' }, { reason: 'ended_by_api' }]);
  });

  it('tells the clinician on the node holding the call of a phone-me request made through the other', async () => {
    const c = await call();
    const told = next(c.clinicianSocket, 'callbackRequested');
    const code = codeOf(await patientLink(a, c.id));
    expect((await node(c.other).api('POST', `/api/v1/links/${code}/callback`)).status).toBe(200);
    expect(await told).toEqual({ at: expect.any(Number) });
  });

  it('keeps a call going while Redis restarts, delivers an end sent meanwhile, and places again after', async () => {
    const c = await call();
    await redis.stop();
    // Signalling within the node holding the call needs no Redis.
    const heard = next(c.patientSocket, 'chat');
    expect(await c.clinicianSocket.timeout(5000).emitWithAck('chat', { text: 'still here' })).toMatchObject({ ok: true });
    expect(await heard).toMatchObject({ text: 'still here' });
    const ended = [next(c.patientSocket, 'consultationEnded'), next(c.clinicianSocket, 'consultationEnded')];
    expect((await node(c.other).api('POST', `/api/v1/consultations/${c.id}/end`)).status).toBe(200);
    // A consultation live nowhere cannot be placed while the region cannot say where.
    const fresh = await consultation(b);
    const refused = await connect(b, fresh.id, fresh.clinician.cookie, opened).then(() => undefined, (err: { data?: { code?: string } }) => err);
    expect(refused?.data?.code).toBe('unavailable');
    await redis.start();
    const back = performance.now();
    expect(await Promise.all(ended)).toEqual([{ reason: 'ended_by_api' }, { reason: 'ended_by_api' }]);
    const delivered = performance.now() - back;
    // Placement recovers once the nodes have reconnected: the page's retries get through.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await connect(b, fresh.id, fresh.clinician.cookie, opened).then(() => true, (err: { data?: { code?: string } }) => {
        if (err.data?.code !== 'unavailable' || Date.now() > deadline) throw err;
        return false;
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    console.info(`Redis back: the end sent meanwhile arrived after ${delivered.toFixed(0)} ms, placement worked again after ${(performance.now() - back).toFixed(0)} ms`);
  });

  // Last: past the limit, this address can redeem nothing for a minute.
  it('counts refused redemptions of one address across nodes', async () => {
    const statuses: number[] = [];
    for (const [i, server] of [a, b, a, b].entries()) {
      statuses.push((await fetch(`${server.url}/api/v1/links/RRRRRRRRRRRRRRRRRRRRR${i}/redeem`, { method: 'POST' })).status);
    }
    expect(statuses).toEqual([404, 404, 404, 429]);
  });
});
