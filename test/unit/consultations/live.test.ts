/**
 * A live consultation against the real consultations service (SQLite underneath), with a small
 * fake for the media and the clients: what each participant is told, in which order things
 * close, and the three defects this owner fixed (admission persisted first, a join re-checked
 * after the media wait, one departure sequence).
 */
import { defaultHolder } from '../../helpers/holder.js';
import type { Holder } from '../../../server/consultations/service.js';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Outgoing, Recipients } from '../../../server/consultations/live.js';
import { LiveConsultations, type PresenceEvent } from '../../../server/consultations/live-registry.js';
import { Rooms } from '../../../server/consultations/rooms.js';
import { Consultations } from '../../../server/consultations/service.js';
import { AppError } from '../../../server/errors.js';
import { createLogger } from '../../../server/log.js';
import type { MediaSession } from '../../../server/media/session.js';
import { openDb } from '../../../server/store/db.js';
import { SqliteStore } from '../../../server/store/sqlite/store.js';

/** Just enough of a MediaSession: peers by id, producers per peer, close once. */
class FakeSession extends EventEmitter {
  readonly rtpCapabilities = { codecs: [] };
  isClosed = false;
  readonly producers = new Map<string, { producerId: string; participantId: string; kind: 'video'; source: 'camera' }[]>();
  readonly closedPeers: string[] = [];
  closePeer(id: string) {
    this.closedPeers.push(id);
    this.producers.delete(id);
  }
  producersOf(id: string) {
    return this.producers.get(id) ?? [];
  }
  ownerOf(producerId: string) {
    for (const [id, ps] of this.producers) if (ps.some((p) => p.producerId === producerId)) return id;
    return undefined;
  }
}

class FakeMedia {
  session = new FakeSession();
  closes = 0;
  /** When set, getOrCreate waits for this before answering (a worker busy opening a router). */
  gate: Promise<void> | undefined;
  async getOrCreate() {
    await this.gate;
    return this.session as unknown as MediaSession;
  }
  close() {
    this.closes++;
  }
}

const logger = createLogger('silent');
let dir: string;
let holder: Holder;
let store: SqliteStore;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'openconsult-live-'));
  store = new SqliteStore(openDb(path.join(dir, 'db.sqlite')));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function setUp() {
  const consultations = new Consultations({
    times: { waitingTimeout: 1800, maxCallDuration: 5400 },
    store, sms: { name: 'memory', send: async () => undefined }, logger, now: Date.now, linkTtlSeconds: 3600,
    publicUrl: () => 'https://vc.example.org',
  });
  holder = await defaultHolder(store, 'Test Surgery');
  const media = new FakeMedia();
  const rooms = new Rooms();
  const registry = new LiveConsultations({ consultations, media, rooms, logger, now: () => 1000 });
  const { id } = await consultations.create({ patientPhone: '07700900123', patientName: 'Ann', clinicianName: 'Dr Lee' }, 'key:test', holder);
  const everyone = await consultations.participants(id);
  const [patient, clinician] = (['patient', 'clinician'] as const).map((role) => everyone.find((p) => p.role === role)!.id) as [string, string];
  const live = await registry.open(id);
  const log: string[] = [];
  const sent: { to: Recipients; message: Outgoing }[] = [];
  const presence: PresenceEvent[] = [];
  registry.on('send', (_live, to, message) => {
    sent.push({ to, message });
    log.push(`send ${message.event}`);
  });
  registry.on('disconnect', (_live, to, when) => log.push(`disconnect ${to === 'everyone' ? to : to.join()} ${when}`));
  registry.on('admitted', (_live, socketId) => log.push(`admitted ${socketId}`));
  registry.on('closed', (_live, reason) => log.push(`closed ${reason}`));
  registry.on('presence', (e) => presence.push(e));
  return { consultations, media, rooms, registry, live, id, patient, clinician, log, sent, presence };
}

const codeOf = (err: unknown) => (err instanceof AppError ? err.code : String(err));

describe('LiveConsultation', () => {
  it('puts the patient in the waiting room and the clinician in the call, telling each about the other', async () => {
    const { live, consultations, id, patient, clinician, sent } = await setUp();
    const p = await live.join(patient, 'patient', 'sock-p');
    expect(p.self).toMatchObject({ id: patient, presence: 'waiting', name: 'Ann', waitingSince: 1000 });
    expect((await consultations.get(id)).status).toBe('waiting');
    const c = await live.join(clinician, 'clinician', 'sock-c');
    expect(c.self).toMatchObject({ presence: 'admitted', name: 'Dr Lee' });
    expect(c.participants.map((m) => m.id)).toEqual([patient]);
    expect(sent.at(-1)).toEqual({ to: ['sock-p'], message: { event: 'participant', args: [c.self] } });
  });

  it('starts the call in the store before moving anyone: a failed start leaves the patient waiting', async () => {
    const { live, consultations, patient, clinician, log } = await setUp();
    await live.join(patient, 'patient', 'sock-p');
    await live.join(clinician, 'clinician', 'sock-c');
    const start = vi.spyOn(consultations, 'startCall').mockImplementation(() => {
      throw new AppError('invalid_state', 'The consultation is already ended.');
    });
    await expect(live.admit(patient)).rejects.toThrow(AppError);
    expect(live.presentCount()).toBe(2);
    expect((await live.join(clinician, 'clinician', 'sock-c2')).participants[0]).toMatchObject({ id: patient, presence: 'waiting' });
    expect(log.some((l) => l.startsWith('admitted'))).toBe(false);
    start.mockRestore();
    await live.admit(patient);
    expect(log).toContain('admitted sock-p');
  });

  it('refuses a join when the consultation ended while its media session was being made', async () => {
    const { live, consultations, media, id, patient, presence } = await setUp();
    let open!: () => void;
    media.gate = new Promise((resolve) => (open = resolve));
    const joining = live.join(patient, 'patient', 'sock-p');
    await consultations.end(id, 'key:test', 'ended_by_api');
    open();
    expect(codeOf(await joining.catch((e: unknown) => e))).toBe('consultation_closed');
    expect(presence).toEqual([]);
    expect(media.closes).toBeGreaterThanOrEqual(1);
  });

  it('departs the same way whether someone leaves, drops, or does not come back in time', async () => {
    const { live, consultations, media, id, patient, clinician, presence, sent } = await setUp();
    await live.join(patient, 'patient', 'sock-p');
    await live.join(clinician, 'clinician', 'sock-c');
    presence.length = 0;

    await live.drop(patient, 'sock-stale', 'transport close'); // an older connection: nothing to undo
    expect(presence).toEqual([]);
    await live.drop(patient, 'sock-p', 'transport close');
    expect(sent.at(-1)?.message).toMatchObject({ event: 'participant', args: [{ id: patient, presence: 'reconnecting' }] });
    expect(live.presentCount()).toBe(2);
    await live.reconnectExpired(patient);
    expect(sent.at(-1)?.message).toMatchObject({ event: 'participant', args: [{ id: patient, presence: 'left' }] });
    await live.reconnectExpired(patient); // once only
    await live.leave(clinician, 'sock-c');

    expect(presence.map((e) => `${e.participantId === patient ? 'patient' : 'clinician'} ${e.change}`))
      .toEqual(['patient dropped', 'patient gone', 'clinician gone']);
    expect(media.session.closedPeers.filter((p) => p === patient)).toHaveLength(3); // on joining, dropping, and going
    expect(live.presentCount()).toBe(0);
    const types = (await consultations.events(id)).map((e) => e.type);
    expect(types.filter((t) => t === 'participant_gone')).toHaveLength(1);
    expect(types.filter((t) => t === 'left')).toHaveLength(1);
  });

  it('closes child-first, once: clients told and disconnected, media closed, room forgotten', async () => {
    const { live, registry, consultations, media, rooms, id, patient, log } = await setUp();
    await live.join(patient, 'patient', 'sock-p');
    log.length = 0;
    await consultations.end(id, 'clinician', 'ended_by_clinician');
    expect(log).toEqual(['send consultationEnded', 'disconnect everyone afterAck', 'closed ended_by_clinician']);
    expect(media.closes).toBe(1);
    expect(rooms.find(id)).toBeUndefined();
    expect(registry.find(id)).toBeUndefined();
    live.close('ended_by_api');
    expect(log).toHaveLength(3);
    expect(media.closes).toBe(1);
    expect(codeOf((() => { try { live.media(); } catch (e) { return e; } })())).toBe('consultation_closed');
    await expect(registry.open(id)).rejects.toSatisfy((e) => codeOf(e) === 'consultation_closed');
  });

  it('tells the call about a producer only once its owner is admitted', async () => {
    const { live, media, patient, clinician, sent } = await setUp();
    await live.join(patient, 'patient', 'sock-p');
    await live.join(clinician, 'clinician', 'sock-c');
    const cam = { producerId: 'cam-p', participantId: patient, kind: 'video' as const, source: 'camera' as const };
    media.session.producers.set(patient, [cam]);
    sent.length = 0;
    live.produced(cam);
    expect(sent).toEqual([]);
    expect(live.mayConsume('cam-p')).toBe(false);
    await live.admit(patient);
    expect(sent.map((s) => [s.message.event, s.to])).toEqual([
      ['admitted', ['sock-p']], ['newProducer', ['sock-c']], ['participant', ['sock-c']],
    ]);
    expect(live.mayConsume('cam-p')).toBe(true);
  });
});

describe('LiveConsultations', () => {
  it('makes one live consultation per id, shared by joins at once, and answers the timers', async () => {
    const { registry, live, id, patient } = await setUp();
    const [a, b] = await Promise.all([registry.open(id), registry.open(id)]);
    expect(a).toBe(live);
    expect(b).toBe(live);
    expect(registry.presentCount(id)).toBe(0);
    await live.join(patient, 'patient', 'sock-p');
    expect(registry.presentCount(id)).toBe(1);
    expect(registry.presentCount('elsewhere')).toBe(0);
  });
});
