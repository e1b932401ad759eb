import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Ack, ClientToServerEvents, JoinInfo, ServerToClientEvents, TransportOptions } from '../../../signalling/events.js';
import { type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
/** The same socket without the contract's types, to send what a hostile client would. */
type RawSocket = Socket;

let server: TestServer;
const opened: ClientSocket[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterEach(() => {
  for (const s of opened.splice(0)) s.disconnect();
});
afterAll(async () => {
  await server?.close();
});

const ACK_MS = 5000;

interface Consultation {
  id: string;
  patientCookie: string;
  patientId: string;
  clinicianCookie: string;
  clinicianId: string;
}

async function redeemCookie(code: string): Promise<{ cookie: string; participantId: string }> {
  const res = await fetch(`${server.url}/api/v1/links/${code}/redeem`, { method: 'POST' });
  expect(res.status).toBe(200);
  const body = await res.json() as { participantId: string };
  const setCookie = res.headers.getSetCookie()[0];
  if (!setCookie) throw new Error('no session cookie');
  return { cookie: setCookie.split(';')[0] as string, participantId: body.participantId };
}

async function consultation(): Promise<Consultation> {
  const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123', patientName: 'Pat', clinicianName: 'Dr Jones' });
  expect(created.status).toBe(201);
  const sms = (await server.outbox()).find((m) => m.consultationId === created.body.id);
  if (!sms) throw new Error('no SMS');
  const patient = await redeemCookie(codeOf(linkIn(sms.body)));
  const clinician = await redeemCookie(codeOf(created.body.clinicianUrl));
  return {
    id: created.body.id, patientCookie: patient.cookie, patientId: patient.participantId,
    clinicianCookie: clinician.cookie, clinicianId: clinician.participantId,
  };
}

function socketFor(consultationId: string, cookie?: string): ClientSocket {
  const s: ClientSocket = io(server.url, {
    auth: { consultationId },
    extraHeaders: cookie ? { cookie } : {},
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  opened.push(s);
  return s;
}

async function connected(consultationId: string, cookie: string): Promise<ClientSocket> {
  const s = socketFor(consultationId, cookie);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', reject);
  });
  return s;
}

function refusal(s: ClientSocket): Promise<Error & { data?: { code?: string; message?: string } }> {
  return new Promise((resolve, reject) => {
    s.once('connect', () => reject(new Error('the connection was accepted')));
    s.once('connect_error', resolve);
  });
}

function next<E extends keyof ServerToClientEvents>(s: ClientSocket, event: E): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve) => {
    s.once(event, ((arg: Parameters<ServerToClientEvents[E]>[0]) => resolve(arg)) as never);
  });
}

/** The reason of the socket's next disconnection; call before the action that causes it. */
function disconnected(s: ClientSocket): Promise<string> {
  return new Promise((resolve) => {
    s.once('disconnect', (reason) => resolve(reason));
  });
}

async function join(s: ClientSocket): Promise<JoinInfo> {
  const res = await s.timeout(ACK_MS).emitWithAck('join', {});
  if (!res.ok) throw new Error(`join failed: ${res.error.code} ${res.error.message}`);
  return res.data;
}

async function status(id: string): Promise<string> {
  return (await server.api('GET', `/api/v1/consultations/${id}`)).body.status;
}

describe('signalling handshake', () => {
  it('refuses a connection without a session cookie', async () => {
    const c = await consultation();
    const err = await refusal(socketFor(c.id));
    expect(err.data?.code).toBe('unauthorized');
    expect(err.data?.message).toBeTruthy();
  });

  it('refuses a connection without a consultation id', async () => {
    const c = await consultation();
    const s = io(server.url, { extraHeaders: { cookie: c.patientCookie }, transports: ['websocket'], reconnection: false, forceNew: true });
    opened.push(s);
    expect((await refusal(s)).data?.code).toBe('unauthorized');
  });

  it('refuses a session of one consultation used for another', async () => {
    const a = await consultation();
    const b = await consultation();
    const cookieOfAForB = `oc_s_${b.id}=${a.patientCookie.split('=')[1]}`;
    expect((await refusal(socketFor(b.id, cookieOfAForB))).data?.code).toBe('unauthorized');
  });

  it('refuses a forged session cookie', async () => {
    const c = await consultation();
    const [name, token] = c.patientCookie.split('=') as [string, string];
    const [h, , sig] = token.split('.');
    const forged = `${name}=${h}.${Buffer.from(JSON.stringify({ typ: 'session', role: 'clinician' })).toString('base64url')}.${sig}`;
    expect((await refusal(socketFor(c.id, forged))).data?.code).toBe('unauthorized');
  });

  it('refuses to connect to an ended consultation', async () => {
    const c = await consultation();
    await server.api('POST', `/api/v1/consultations/${c.id}/end`);
    expect((await refusal(socketFor(c.id, c.patientCookie))).data?.code).toBe('consultation_closed');
  });
});

describe('waiting room', () => {
  it('puts a joining patient in the waiting room and the consultation in waiting', async () => {
    const c = await consultation();
    const patient = await connected(c.id, c.patientCookie);
    const info = await join(patient);
    expect(info.self).toMatchObject({ id: c.patientId, role: 'patient', presence: 'waiting' });
    expect(typeof info.self.waitingSince).toBe('number');
    expect(info.consultation).toEqual({ id: c.id, status: 'waiting' });
    const codecs = info.routerRtpCapabilities.codecs as { mimeType: string }[];
    expect(codecs.length).toBeGreaterThan(0);
    expect(codecs.map((x) => x.mimeType)).toEqual(expect.arrayContaining(['audio/opus', 'video/VP8']));
    expect(info.producers).toEqual([]);
    expect(info.iceServers).toEqual([]);
    expect(await status(c.id)).toBe('waiting');
  });

  it('lets a waiting patient prepare their own media, with validated requests', async () => {
    const c = await consultation();
    const patient = await connected(c.id, c.patientCookie);
    await join(patient);

    const raw = patient as unknown as RawSocket;
    const sideways = await raw.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'sideways' }) as Ack<TransportOptions>;
    expect(sideways).toEqual({ ok: false, error: { code: 'validation_failed', message: expect.any(String) } });

    const send: Ack<TransportOptions> = await patient.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'send' });
    if (!send.ok) throw new Error(`createTransport failed: ${send.error.code}`);
    expect(send.data.id).toEqual(expect.any(String));
    expect(send.data.iceParameters).toMatchObject({ usernameFragment: expect.any(String), password: expect.any(String) });
    expect(send.data.iceCandidates.length).toBeGreaterThan(0);
    // The test server binds media to loopback: candidates must name that address, for UDP and TCP.
    expect(new Set(send.data.iceCandidates.map((x) => x.address ?? x.ip))).toEqual(new Set(['127.0.0.1']));
    expect(new Set(send.data.iceCandidates.map((x) => x.protocol))).toEqual(new Set(['udp', 'tcp']));
    expect(send.data.dtlsParameters).toMatchObject({ fingerprints: expect.any(Array) });
  });

  it('does not let a patient admit themselves or end the consultation', async () => {
    const c = await consultation();
    const patient = await connected(c.id, c.patientCookie);
    await join(patient);
    // No admit/end handlers exist for a patient: these requests get no answer. A later request's
    // answer shows they were processed (socket.io handles one socket's events in order).
    patient.emit('admit', { id: c.patientId }, () => undefined);
    patient.emit('end', {}, () => undefined);
    const after = await patient.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'recv' });
    expect(after.ok).toBe(true);
    const got = (await server.api('GET', `/api/v1/consultations/${c.id}`)).body;
    expect(got.status).toBe('waiting');
    expect(got.participants).toEqual(expect.arrayContaining([{ id: c.patientId, role: 'patient', presence: 'waiting' }]));
  });

  it('refuses garbage payloads with validation_failed', async () => {
    const c = await consultation();
    const raw = (await connected(c.id, c.patientCookie)) as unknown as RawSocket;
    const invalid = { ok: false, error: { code: 'validation_failed', message: expect.any(String) } };

    expect(await raw.timeout(ACK_MS).emitWithAck('join', 'let me in')).toEqual(invalid);
    expect(await raw.timeout(ACK_MS).emitWithAck('join', { role: 'clinician' })).toEqual(invalid);
    expect(await raw.timeout(ACK_MS).emitWithAck('join', null)).toEqual(invalid);
    const joined = await raw.timeout(ACK_MS).emitWithAck('join', {}) as Ack<JoinInfo>;
    expect(joined.ok).toBe(true);

    const protoPayload: unknown = JSON.parse('{"__proto__": {"direction": "send"}, "direction": "send"}');
    expect(Object.keys(protoPayload as object)).toContain('__proto__');
    expect(await raw.timeout(ACK_MS).emitWithAck('createTransport', protoPayload)).toEqual(invalid);
    expect(await raw.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'send', extra: 1 })).toEqual(invalid);
    expect(await raw.timeout(ACK_MS).emitWithAck('createTransport', ['send'])).toEqual(invalid);
    expect(await raw.timeout(ACK_MS).emitWithAck('connectTransport', { transportId: '../../x', dtlsParameters: {} })).toEqual(invalid);
    expect(await raw.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'x'.repeat(10_000) })).toEqual(invalid);
  });

  it('drops a client that sends a 300 KB payload, and keeps serving everyone else', async () => {
    const c = await consultation();
    const bystander = await connected(c.id, c.clinicianCookie);
    await join(bystander);
    const hostile = await connected(c.id, c.patientCookie);
    await join(hostile);
    const gone = disconnected(hostile);
    hostile.emit('createTransport', { direction: 'x'.repeat(300 * 1024) } as never, () => undefined);
    expect(await gone).toBe('transport close');

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect((await bystander.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'recv' })).ok).toBe(true);
    // The dropped patient may come back with the same session.
    const back = await connected(c.id, c.patientCookie);
    expect((await join(back)).self.presence).toBe('waiting');
  });
});

describe('admission and the call', () => {
  it('admits a waiting patient into the call and ends it for everyone', async () => {
    const c = await consultation();
    const patient = await connected(c.id, c.patientCookie);
    await join(patient);

    const clinician = await connected(c.id, c.clinicianCookie);
    const info = await join(clinician);
    expect(info.self).toMatchObject({ id: c.clinicianId, role: 'clinician', presence: 'admitted', name: 'Dr Jones' });
    expect(info.participants).toEqual([expect.objectContaining({ id: c.patientId, role: 'patient', presence: 'waiting', name: 'Pat' })]);

    const admittedEvent = next(patient, 'admitted');
    const seenByClinician = next(clinician, 'participant');
    const admit = await clinician.timeout(ACK_MS).emitWithAck('admit', { id: c.patientId });
    expect(admit).toEqual({ ok: true, data: {} });
    expect(await admittedEvent).toEqual({ producers: [] });
    expect(await seenByClinician).toMatchObject({ id: c.patientId, presence: 'admitted' });
    expect(await status(c.id)).toBe('in_call');

    // Admission installs the call handlers on the patient's socket: consume now answers.
    const consume = await patient.timeout(ACK_MS).emitWithAck('consume', { producerId: 'noSuchProducer', rtpCapabilities: {} });
    expect(consume).toEqual({ ok: false, error: { code: 'not_found', message: expect.any(String) } });

    const patientEnded = next(patient, 'consultationEnded');
    const clinicianEnded = next(clinician, 'consultationEnded');
    const bothGone = Promise.all([disconnected(patient), disconnected(clinician)]);
    clinician.emit('end', {}, () => undefined);
    expect(await patientEnded).toEqual({ reason: 'ended_by_clinician' });
    expect(await clinicianEnded).toEqual({ reason: 'ended_by_clinician' });
    expect(await bothGone).toEqual(['io server disconnect', 'io server disconnect']);
    const got = (await server.api('GET', `/api/v1/consultations/${c.id}`)).body;
    expect(got).toMatchObject({ status: 'ended', endedReason: 'ended_by_clinician' });
  });

  it('acknowledges the clinician\'s end request', async () => {
    const c = await consultation();
    const clinician = await connected(c.id, c.clinicianCookie);
    await join(clinician);
    const ended = next(clinician, 'consultationEnded');
    const ack = await clinician.timeout(ACK_MS).emitWithAck('end', {}).catch((err: Error) => err.message);
    await ended;
    expect(ack).toEqual({ ok: true, data: {} });
  });

  it('refuses to admit someone who is not waiting, or not part of the consultation', async () => {
    const c = await consultation();
    const clinician = await connected(c.id, c.clinicianCookie);
    await join(clinician);
    const self = await clinician.timeout(ACK_MS).emitWithAck('admit', { id: c.clinicianId });
    expect(self).toEqual({ ok: false, error: { code: 'invalid_state', message: expect.any(String) } });
    const stranger = await clinician.timeout(ACK_MS).emitWithAck('admit', { id: 'someoneElse' });
    expect(stranger).toEqual({ ok: false, error: { code: 'participant_not_found', message: expect.any(String) } });
    expect(await status(c.id)).toBe('created');
  });

  it('lets an admitted patient who dropped rejoin the call without waiting again', async () => {
    const c = await consultation();
    const patient = await connected(c.id, c.patientCookie);
    await join(patient);
    const clinician = await connected(c.id, c.clinicianCookie);
    await join(clinician);
    const admitted = next(patient, 'admitted');
    expect((await clinician.timeout(ACK_MS).emitWithAck('admit', { id: c.patientId })).ok).toBe(true);
    await admitted;

    const reconnecting = next(clinician, 'participant');
    patient.disconnect();
    expect(await reconnecting).toMatchObject({ id: c.patientId, presence: 'reconnecting' });

    const back = await connected(c.id, c.patientCookie);
    const seenBack = next(clinician, 'participant');
    const info = await join(back);
    expect(info.self.presence).toBe('admitted');
    expect(info.consultation.status).toBe('in_call');
    expect(await seenBack).toMatchObject({ id: c.patientId, presence: 'admitted' });
  });

  it('hands the session over to a new connection of the same person (a reload)', async () => {
    const c = await consultation();
    const first = await connected(c.id, c.patientCookie);
    await join(first);
    const firstGone = disconnected(first);
    const second = await connected(c.id, c.patientCookie);
    expect((await join(second)).self.presence).toBe('waiting');
    expect(await firstGone).toBe('io server disconnect');
    expect((await second.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'recv' })).ok).toBe(true);
  });

  it('tells everyone when the practice ends the consultation through the API', async () => {
    const c = await consultation();
    const patient = await connected(c.id, c.patientCookie);
    await join(patient);
    const ended = next(patient, 'consultationEnded');
    const gone = disconnected(patient);
    expect((await server.api('POST', `/api/v1/consultations/${c.id}/end`)).status).toBe(200);
    expect(await ended).toEqual({ reason: 'ended_by_api' });
    expect(await gone).toBe('io server disconnect');
  });
});

describe('start-of-call checklist', () => {
  const ticks = { location: true, identity: true, private: false, othersAgreed: true };
  const checklistEvents = async (id: string) =>
    ((await server.api('GET', `/api/v1/consultations/${id}/events`)).body.events as { type: string; actor: string; detail: unknown }[])
      .filter((e) => e.type === 'checklist');

  it('audits the clinician\'s checklist as ticks only, with the clinician as the actor', async () => {
    const c = await consultation();
    const clinician = await connected(c.id, c.clinicianCookie);
    await join(clinician);
    expect(await clinician.timeout(ACK_MS).emitWithAck('checklist', ticks)).toEqual({ ok: true, data: {} });
    expect(await checklistEvents(c.id)).toEqual([expect.objectContaining({ actor: 'clinician', detail: ticks })]);
  });

  it('refuses a checklist from a patient or a guest', async () => {
    const c = await consultation();
    const clinician = await connected(c.id, c.clinicianCookie);
    await join(clinician);
    const invited = await clinician.timeout(ACK_MS).emitWithAck('invite', { label: 'Carer' });
    if (!invited.ok) throw new Error(`invite failed: ${invited.error.code}`);
    const guestCookie = (await redeemCookie(codeOf(invited.data.url))).cookie;
    for (const cookie of [c.patientCookie, guestCookie]) {
      const s = await connected(c.id, cookie);
      await join(s);
      // No checklist handler exists for them: no answer, and a later request's answer shows it was processed.
      s.emit('checklist', ticks, () => undefined);
      expect((await s.timeout(ACK_MS).emitWithAck('createTransport', { direction: 'recv' })).ok).toBe(true);
    }
    // The clinician's own, sent after theirs, is the only one in the log.
    expect((await clinician.timeout(ACK_MS).emitWithAck('checklist', ticks)).ok).toBe(true);
    expect(await checklistEvents(c.id)).toEqual([expect.objectContaining({ actor: 'clinician', detail: ticks })]);
  });

  it('refuses bad checklist payloads with validation_failed and audits none of them', async () => {
    const c = await consultation();
    const raw = (await connected(c.id, c.clinicianCookie)) as unknown as RawSocket;
    expect((await raw.timeout(ACK_MS).emitWithAck('join', {}) as Ack<JoinInfo>).ok).toBe(true);
    const invalid = { ok: false, error: { code: 'validation_failed', message: expect.any(String) } };
    for (const bad of [
      null, 'all done', {}, { location: true, identity: true, private: true },
      { ...ticks, location: 'yes' }, { ...ticks, othersAgreed: 1 }, { ...ticks, note: 'patient at 1 High Street' },
    ]) expect(await raw.timeout(ACK_MS).emitWithAck('checklist', bad)).toEqual(invalid);
    expect(await checklistEvents(c.id)).toEqual([]);
  });
});
