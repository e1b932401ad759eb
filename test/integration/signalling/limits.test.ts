/**
 * What one valid link may ask of the service (issue 13, items 1 and 3): one transport per
 * direction, one producer per source, one consumer per producer, only the clinician shares a
 * screen, a token bucket per connection, one `join` per connection, a few connections per
 * participant, a few invitations per consultation, bounded media descriptions, and no pages of
 * other sites. Real server, real socket.io clients, real mediasoup worker.
 */
import * as mediasoup from 'mediasoup';
import type { Router, Worker } from 'mediasoup/node/lib/types.js';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Ack, ClientToServerEvents, JoinInfo, ServerToClientEvents } from '../../../signalling/events.js';
import { socketsPerParticipant } from '../../../server/signalling/signalling.js';
import { TEST_API_KEY, type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type RawSocket = Socket;

const ACK_MS = 10_000;
const opened: Socket[] = [];
const routers: Router[] = [];
const onWorker = (w: Worker) => w.observer.on('newrouter', (r: Router) => routers.push(r));

let server: TestServer;
/** The server's clock runs this far ahead of the real one (to refill token buckets without waiting). */
let skew = 0;

beforeAll(async () => {
  mediasoup.observer.on('newworker', onWorker);
  server = await startServer({}, { now: () => Date.now() + skew });
});
afterEach(() => {
  for (const s of opened.splice(0)) s.disconnect();
});
afterAll(async () => {
  mediasoup.observer.off('newworker', onWorker);
  await server?.close();
});

/** Where the server listens (its `url` is PUBLIC_URL when that is set). */
const listening = (s: TestServer) => `http://127.0.0.1:${(s.app.http.server.address() as { port: number }).port}`;

async function redeem(s: TestServer, code: string): Promise<string> {
  const res = await fetch(`${listening(s)}/api/v1/links/${code}/redeem`, { method: 'POST' });
  expect(res.status).toBe(200);
  return (res.headers.getSetCookie()[0] ?? '').split(';')[0] as string;
}

async function consultation(s = server) {
  const res = await fetch(`${listening(s)}/api/v1/consultations`, {
    method: 'POST', headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ patientPhone: '07700 900123', patientName: 'Pat' }),
  });
  const created = await res.json() as { id: string; clinicianUrl: string };
  const sms = (await s.outbox()).find((m) => m.consultationId === created.id)!;
  return { id: created.id, patient: await redeem(s, codeOf(linkIn(sms.body))), clinician: await redeem(s, codeOf(created.clinicianUrl)) };
}

function socketFor(consultationId: string, cookie: string, headers: Record<string, string> = {}, s = server): ClientSocket {
  const socket: ClientSocket = io(listening(s), {
    auth: { consultationId }, extraHeaders: { cookie, ...headers }, transports: ['websocket'], reconnection: false, forceNew: true,
  });
  opened.push(socket);
  return socket;
}

function connected(socket: ClientSocket): Promise<ClientSocket> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

function ok<R extends Ack<unknown>>(res: R): Extract<R, { ok: true }>['data'] {
  if (!res.ok) throw new Error(`refused: ${res.error.code} ${res.error.message}`);
  return res.data;
}

async function joined(consultationId: string, cookie: string): Promise<{ socket: ClientSocket; info: JoinInfo }> {
  const socket = await connected(socketFor(consultationId, cookie));
  return { socket, info: ok(await socket.timeout(ACK_MS).emitWithAck('join', {})) };
}

/** Patient and clinician in the call. */
async function inCall() {
  const c = await consultation();
  const patient = await joined(c.id, c.patient);
  const clinician = await joined(c.id, c.clinician);
  const admitted = new Promise((resolve) => patient.socket.once('admitted', resolve));
  ok(await clinician.socket.timeout(ACK_MS).emitWithAck('admit', { id: patient.info.self.id }));
  await admitted;
  return { c, patient, clinician };
}

const opus = (ssrc: number): Record<string, unknown> => ({
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
  encodings: [{ ssrc }], headerExtensions: [], rtcp: { cname: 'test' },
});
const vp8 = (ssrc: number): Record<string, unknown> => ({
  codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: [] }],
  encodings: [{ ssrc }], headerExtensions: [], rtcp: { cname: 'test' },
});

/** The transports and producers open now on the consultation's router. */
async function openOn(router: Router) {
  const dump = await router.dump();
  const consumersOf = Object.fromEntries(dump.mapProducerIdConsumerIds.map(({ key, values }) => [key, values]));
  return { transports: dump.transportIds, consumersOf };
}

/** The router made for the first transport asked after this is called. */
function nextRouter(): () => Router {
  const before = routers.length;
  return () => routers[before] as Router;
}

describe('media resources per participant', () => {
  it('keeps one transport per direction, however many a waiting patient asks for', async () => {
    const c = await consultation();
    const { socket } = await joined(c.id, c.patient);
    const router = nextRouter();
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) =>
      socket.timeout(ACK_MS).emitWithAck('createTransport', { direction: i % 2 ? 'send' : 'recv' })));
    expect(answers.filter((a) => a.ok).length).toBeGreaterThan(0);
    const { transports } = await openOn(router());
    const last = answers.filter((a) => a.ok).map((a) => (a as { data: { id: string } }).data.id);
    expect(transports.sort()).toEqual([last.at(-1), last.at(-2)].sort());
  });

  it('keeps one producer per source', async () => {
    const { patient } = await inCall();
    const router = nextRouter();
    const send = ok(await patient.socket.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'send' }));
    const mic = (ssrc: number) => patient.socket.timeout(ACK_MS).emitWithAck('produce', { transportId: send.id, kind: 'audio', rtpParameters: opus(ssrc), source: 'mic' });
    const first = ok(await mic(1111));
    const second = ok(await mic(2222));
    expect(second.producerId).not.toBe(first.producerId);
    expect((await openOn(router())).consumersOf).toEqual({ [second.producerId]: [] });
  });

  it('lets only the clinician share a screen, and each source send its own kind', async () => {
    const { patient, clinician } = await inCall();
    const send = ok(await patient.socket.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'send' }));
    const screen = await patient.socket.timeout(ACK_MS).emitWithAck('produce', { transportId: send.id, kind: 'video', rtpParameters: vp8(3333), source: 'screen' });
    expect(screen).toEqual({ ok: false, error: { code: 'forbidden', message: expect.any(String) } });
    const micAsVideo = await patient.socket.timeout(ACK_MS).emitWithAck('produce', { transportId: send.id, kind: 'video', rtpParameters: vp8(4444), source: 'mic' });
    expect(micAsVideo).toMatchObject({ ok: false, error: { code: 'validation_failed' } });

    const hostSend = ok(await clinician.socket.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'send' }));
    const share = await clinician.socket.timeout(ACK_MS).emitWithAck('produce', { transportId: hostSend.id, kind: 'video', rtpParameters: vp8(5555), source: 'screen' });
    expect(share.ok).toBe(true);
  });

  it('answers a repeated consume with the same consumer', async () => {
    const { patient, clinician } = await inCall();
    const router = nextRouter();
    const send = ok(await clinician.socket.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'send' }));
    const { producerId } = ok(await clinician.socket.timeout(ACK_MS).emitWithAck('produce', {
      transportId: send.id, kind: 'audio', rtpParameters: opus(1234), source: 'mic',
    }));
    ok(await patient.socket.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'recv' }));
    const rtpCapabilities = router().rtpCapabilities as unknown as Record<string, unknown>;
    const consume = () => patient.socket.timeout(ACK_MS).emitWithAck('consume', { producerId, rtpCapabilities });
    const [a, b] = await Promise.all([consume(), consume()]);
    const c = await consume();
    const ids = [a, b, c].map((x) => (x.ok ? x.data.id : x.error.code));
    expect(ids[0]).toEqual(expect.any(String));
    expect(ids).toEqual([ids[0], ids[0], ids[0]]);
    expect((await openOn(router())).consumersOf).toEqual({ [producerId]: [ids[0]] });
  });
});

describe('phases', () => {
  it('handles two joins sent at once once: the second is refused, later events run once', async () => {
    const c = await consultation();
    const patient = await joined(c.id, c.patient);
    const clinician = await connected(socketFor(c.id, c.clinician));
    const joins = await Promise.all([
      clinician.timeout(ACK_MS).emitWithAck('join', {}), clinician.timeout(ACK_MS).emitWithAck('join', {}),
    ]);

    const admitted = new Promise((resolve) => patient.socket.once('admitted', resolve));
    expect((await clinician.timeout(ACK_MS).emitWithAck('admit', { id: patient.info.self.id })).ok).toBe(true);
    await admitted;
    const heard: string[] = [];
    patient.socket.on('chat', (m) => heard.push(m.text));
    ok(await clinician.timeout(ACK_MS).emitWithAck('chat', { text: 'hello' }));
    // Each socket's events are handled in order: once this is answered, any second `hello` is out.
    ok(await clinician.timeout(ACK_MS).emitWithAck('chat', { text: 'done' }));
    await new Promise<void>((resolve) => (heard.includes('done') ? resolve() : patient.socket.on('chat', (m) => m.text === 'done' && resolve())));
    expect(heard).toEqual(['hello', 'done']);
    expect(joins.map((j) => j.ok)).toEqual([true, false]);
    expect(joins[1]).toEqual({ ok: false, error: { code: 'invalid_state', message: expect.any(String) } });
  });
});

describe('rate of events', () => {
  it('refuses a burst with rate_limited, keeps the connection, and serves it again once refilled', async () => {
    const c = await consultation();
    const { socket } = await joined(c.id, c.patient);
    const answers = await Promise.all(Array.from({ length: 200 }, () =>
      socket.timeout(ACK_MS).emitWithAck('pauseProducer', { id: 'noSuchProducer', paused: true })));
    const codes = answers.map((a) => (a.ok ? 'ok' : a.error.code));
    expect(codes.filter((x) => x === 'not_found').length).toBeLessThanOrEqual(server.app.config.socketEventBurst);
    expect(codes.filter((x) => x === 'rate_limited').length).toBeGreaterThan(100);
    expect(socket.connected).toBe(true);
    skew += 60_000; // a minute later, the bucket is full again
    expect((await socket.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'recv' })).ok).toBe(true);
  });
});

describe('connections and invitations', () => {
  it(`keeps a participant's newest ${socketsPerParticipant} connections`, async () => {
    const c = await consultation();
    const sockets: ClientSocket[] = [];
    for (let i = 0; i < socketsPerParticipant + 2; i++) sockets.push(await connected(socketFor(c.id, c.patient)));
    const oldest = sockets.slice(0, 2);
    await Promise.all(oldest.map((s) => (s.connected ? new Promise((resolve) => s.once('disconnect', resolve)) : undefined)));
    expect(sockets.map((s) => s.connected)).toEqual([false, false, ...Array(socketsPerParticipant).fill(true)]);
    // The newest still works.
    expect((await sockets.at(-1)!.timeout(ACK_MS).emitWithAck('join', {})).ok).toBe(true);
  });

  it('refuses invitations past the limit for one consultation', async () => {
    const c = await consultation();
    const { socket } = await joined(c.id, c.clinician);
    const limit = server.app.config.inviteLimit;
    // All at once: the limit holds for a burst, not only one after another.
    const answers = await Promise.all(Array.from({ length: limit + 3 }, (_, i) =>
      socket.timeout(ACK_MS).emitWithAck('invite', { label: `Carer ${i}` })));
    expect(answers.filter((a) => a.ok)).toHaveLength(limit);
    for (const over of answers.slice(limit)) expect(over).toEqual({ ok: false, error: { code: 'rate_limited', message: expect.any(String) } });
    const guests = (await server.api('GET', `/api/v1/consultations/${c.id}`)).body.participants.filter((p: { role: string }) => p.role === 'guest');
    expect(guests).toHaveLength(limit);
  });
});

describe('media descriptions', () => {
  it('refuses oversized arrays and strings inside them with validation_failed', async () => {
    const { clinician } = await inCall();
    const raw = clinician.socket as unknown as RawSocket;
    const invalid = { ok: false, error: { code: 'validation_failed', message: expect.any(String) } };
    const codec = { kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 100, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] };
    const tooManyCodecs = { codecs: Array(500).fill(codec), headerExtensions: [] };
    expect(await raw.timeout(ACK_MS).emitWithAck('consume', { producerId: 'someProducer', rtpCapabilities: tooManyCodecs })).toEqual(invalid);
    const longName = { codecs: [{ ...codec, mimeType: `audio/${'x'.repeat(5000)}` }] };
    expect(await raw.timeout(ACK_MS).emitWithAck('consume', { producerId: 'someProducer', rtpCapabilities: longName })).toEqual(invalid);
    const nested = { codecs: [{ ...codec, parameters: { deep: { deeper: [1, 2, 3] } } }] };
    expect(await raw.timeout(ACK_MS).emitWithAck('consume', { producerId: 'someProducer', rtpCapabilities: nested })).toEqual(invalid);
    const send = ok(await clinician.socket.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'send' }));
    const fingerprints = Array(100).fill({ algorithm: 'sha-256', value: 'AB:CD' });
    expect(await raw.timeout(ACK_MS).emitWithAck('connectTransport', { transportId: send.id, dtlsParameters: { role: 'client', fingerprints } })).toEqual(invalid);
    const encodings = Array.from({ length: 100 }, (_, i) => ({ ssrc: 1000 + i }));
    expect(await raw.timeout(ACK_MS).emitWithAck('produce', { transportId: send.id, kind: 'audio', source: 'mic', rtpParameters: { ...opus(1), encodings } })).toEqual(invalid);
  });
});

describe('cross-site WebSocket hijacking', () => {
  it('refuses a page of another site carrying a valid cookie, and accepts our own page', async () => {
    const c = await consultation();
    const evil = socketFor(c.id, c.patient, { origin: 'https://evil.example' });
    await expect(connected(evil)).rejects.toThrow();
    await connected(socketFor(c.id, c.patient, { origin: server.url }));
  });

  it('with PUBLIC_URL set, accepts only its origin', async () => {
    const s = await startServer({ publicUrl: 'https://video.example-practice.nhs.uk' });
    try {
      const c = await consultation(s);
      await expect(connected(socketFor(c.id, c.patient, { origin: listening(s) }, s))).rejects.toThrow();
      await connected(socketFor(c.id, c.patient, { origin: 'https://video.example-practice.nhs.uk' }, s));
    } finally {
      for (const x of opened.splice(0)) x.disconnect();
      await s.close();
    }
  });
});
