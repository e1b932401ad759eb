/**
 * Every lifecycle timer against a fake clock, with the real SQLite store underneath (so the
 * same tests show the timers are durable: a new Timekeeper on the same file picks them up).
 */
import { defaultHolder } from '../../helpers/holder.js';
import type { Holder } from '../../../server/consultations/service.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Consultations } from '../../../server/consultations/service.js';
import { type LifecycleTimes, type PresencePort, Timekeeper, type TimerRegion, warningLead } from '../../../server/consultations/timekeeper.js';
import type { Deadline } from '../../../server/store/store.js';
import { createLogger } from '../../../server/log.js';
import type { Sms, SmsProvider } from '../../../server/sms/provider.js';
import { openDb } from '../../../server/store/db.js';
import { SqliteStore } from '../../../server/store/sqlite/store.js';

const times: LifecycleTimes = { waitingTimeout: 600, maxCallDuration: 1800, emptyRoomGrace: 120, reconnectGrace: 30 };
const LINK_TTL = 3600;
const logger = createLogger('silent');

class SentSms implements SmsProvider {
  readonly name = 'memory';
  readonly sent: Sms[] = [];
  async send(sms: Sms) {
    this.sent.push(sms);
  }
}

/** Presence as the signalling layer would report it, recorded. */
class FakePresence implements PresencePort {
  present = 0;
  readonly expired: string[] = [];
  readonly warnings: number[] = [];
  presentCount() {
    return this.present;
  }
  reconnectExpired(_c: string, participantId: string) {
    this.expired.push(participantId);
  }
  warnCallEnding(_c: string, endsAt: number) {
    this.warnings.push(endsAt);
  }
}

let dir: string;
let holder: Holder;
let opened: { store: SqliteStore; keeper: Timekeeper }[] = [];

async function boot(region?: TimerRegion) {
  const store = new SqliteStore(openDb(path.join(dir, 'db.sqlite')));
  const consultations = new Consultations({
    times: { waitingTimeout: 1800, maxCallDuration: 5400 },
    store, sms: new SentSms(), logger, now: Date.now, linkTtlSeconds: LINK_TTL, publicUrl: () => 'https://vc.example.org',
  });
  holder = await defaultHolder(store, 'Test Surgery');
  const presence = new FakePresence();
  const keeper = new Timekeeper(store, consultations, times, Date.now, logger, presence, region);
  await keeper.start();
  opened.push({ store, keeper });
  return { store, consultations, keeper, presence };
}

async function shutdown(i = opened.length - 1) {
  const o = opened[i];
  if (!o) return;
  o.keeper.stop();
  await o.store.close();
  opened.splice(i, 1);
}

const sec = (n: number) => n * 1000;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(new Date('2026-11-24T09:00:00Z'));
  dir = mkdtempSync(path.join(tmpdir(), 'openconsult-timers-'));
});

afterEach(async () => {
  while (opened.length) await shutdown();
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

describe('lifecycle timers', () => {
  it('expires a consultation whose link was never used, when the link lifetime runs out', async () => {
    const { consultations } = await boot();
    const { id } = await consultations.create({ patientPhone: '07700900123' }, 'key:test', holder);
    await vi.advanceTimersByTimeAsync(sec(LINK_TTL - 1));
    expect((await consultations.get(id)).status).toBe('created');
    await vi.advanceTimersByTimeAsync(sec(1));
    expect(await consultations.get(id)).toMatchObject({ status: 'expired', endedReason: 'link_expired' });
  });

  it('expires a consultation whose patient waited longer than the maximum wait', async () => {
    const { consultations } = await boot();
    const { id } = await consultations.create({ patientPhone: '07700900123' }, 'key:test', holder);
    await consultations.markWaiting(id, 'patient');
    await vi.advanceTimersByTimeAsync(sec(times.waitingTimeout - 1));
    expect((await consultations.get(id)).status).toBe('waiting');
    await vi.advanceTimersByTimeAsync(sec(1));
    expect(await consultations.get(id)).toMatchObject({ status: 'expired', endedReason: 'waiting_timeout' });
  });

  it('does not expire a waiting patient because the link lifetime passed', async () => {
    const { consultations } = await boot();
    const { id } = await consultations.create({ patientPhone: '07700900123' }, 'key:test', holder);
    await vi.advanceTimersByTimeAsync(sec(LINK_TTL - 60));
    await consultations.markWaiting(id, 'patient');
    await vi.advanceTimersByTimeAsync(sec(120));
    expect((await consultations.get(id)).status).toBe('waiting');
  });

  it('warns before the call time limit, then ends the call at the limit', async () => {
    const { consultations, presence } = await boot();
    const { id } = await consultations.create({ patientPhone: '07700900123' }, 'key:test', holder);
    await consultations.markWaiting(id, 'patient');
    await consultations.startCall(id, 'clinician');
    const start = Date.now();
    presence.present = 2;
    const lead = warningLead(times.maxCallDuration);
    await vi.advanceTimersByTimeAsync(sec(times.maxCallDuration - lead - 1));
    expect(presence.warnings).toEqual([]);
    await vi.advanceTimersByTimeAsync(sec(1));
    expect(presence.warnings).toEqual([start + sec(times.maxCallDuration)]);
    expect((await consultations.get(id)).status).toBe('in_call');
    await vi.advanceTimersByTimeAsync(sec(lead));
    expect(await consultations.get(id)).toMatchObject({ status: 'ended', endedReason: 'call_time_limit' });
  });

  it('ends a call nobody is in after the empty-room grace, unless someone comes back', async () => {
    const { consultations, keeper, presence } = await boot();
    const a = await consultations.create({ patientPhone: '07700900123' }, 'key:test', holder);
    const b = await consultations.create({ patientPhone: '07700900124' }, 'key:test', holder);
    for (const { id } of [a, b]) {
      await consultations.markWaiting(id, 'patient');
      await consultations.startCall(id, 'clinician');
      presence.present = 0;
      await keeper.participantGone(id, 'someone');
    }
    await vi.advanceTimersByTimeAsync(sec(times.emptyRoomGrace - 10));
    await keeper.participantPresent(b.id, 'clinician-b'); // the clinician of b returns in time
    await vi.advanceTimersByTimeAsync(sec(10));
    expect(await consultations.get(a.id)).toMatchObject({ status: 'ended', endedReason: 'room_empty' });
    expect((await consultations.get(b.id)).status).toBe('in_call');
  });

  it('counts a dropped participant as gone only when the reconnect grace runs out', async () => {
    const { consultations, keeper, presence } = await boot();
    const { id } = await consultations.create({ patientPhone: '07700900123' }, 'key:test', holder);
    await keeper.participantDropped(id, 'p1');
    await keeper.participantDropped(id, 'p2');
    await vi.advanceTimersByTimeAsync(sec(times.reconnectGrace - 1));
    await keeper.participantPresent(id, 'p2'); // p2 reconnected in time
    expect(presence.expired).toEqual([]);
    await vi.advanceTimersByTimeAsync(sec(1));
    expect(presence.expired).toEqual(['p1']);
  });

  it('keeps pending expiries across a restart and fires those that fell due while it was down', async () => {
    const first = await boot();
    const soon = await first.consultations.create({ patientPhone: '07700900123' }, 'key:test', holder);
    await vi.advanceTimersByTimeAsync(sec(600));
    const later = await first.consultations.create({ patientPhone: '07700900124' }, 'key:test', holder);
    await shutdown(); // like SIGKILL: nothing but the database survives

    vi.setSystemTime(Date.now() + sec(LINK_TTL - 300)); // down for most of an hour
    const second = await boot();
    // The first link's expiry passed while the service was down: it fires as soon as it starts.
    await vi.advanceTimersByTimeAsync(0);
    expect(await second.consultations.get(soon.id)).toMatchObject({ status: 'expired', endedReason: 'link_expired' });
    expect((await second.consultations.get(later.id)).status).toBe('created');
    await vi.advanceTimersByTimeAsync(sec(300 - 1)); // the second link had 300 s left
    expect((await second.consultations.get(later.id)).status).toBe('created');
    await vi.advanceTimersByTimeAsync(sec(1));
    expect((await second.consultations.get(later.id)).status).toBe('expired');
  });

  it('gives a call in progress at a restart the reconnect and empty-room grace before ending it', async () => {
    const first = await boot();
    const { id } = await first.consultations.create({ patientPhone: '07700900123' }, 'key:test', holder);
    await first.consultations.markWaiting(id, 'patient');
    await first.consultations.startCall(id, 'clinician');
    await shutdown();

    const second = await boot(); // nobody is connected to a freshly started service
    await vi.advanceTimersByTimeAsync(sec(times.reconnectGrace + times.emptyRoomGrace - 1));
    expect((await second.consultations.get(id)).status).toBe('in_call');
    await vi.advanceTimersByTimeAsync(sec(1));
    expect(await second.consultations.get(id)).toMatchObject({ status: 'ended', endedReason: 'room_empty' });
  });

  it('restarts the link lifetime when the link is re-sent, and forgets timers of ended consultations', async () => {
    const { consultations, keeper } = await boot();
    const { id } = await consultations.create({ patientPhone: '07700900123' }, 'key:test', holder);
    await vi.advanceTimersByTimeAsync(sec(LINK_TTL - 10));
    await consultations.resend(id, 'key:test');
    await vi.advanceTimersByTimeAsync(sec(20));
    expect((await consultations.get(id)).status).toBe('created');
    await consultations.end(id, 'key:test', 'ended_by_api');
    expect(await keeper.pending(id)).toEqual([]);
  });
});

/**
 * Several nodes on one store (design.md 2.3): any node may take a deadline, but only the node that
 * holds the consultation knows who is present. A fake region says where each consultation is held.
 */
class FakeRegion implements TimerRegion {
  readonly pollMs = 0; // the fake clock drives the one timer; polling is for other nodes' deadlines
  readonly held = new Map<string, 'here' | 'elsewhere'>();
  readonly sent: Deadline[] = [];
  reachable = true;
  async route(d: Deadline) {
    if (!this.reachable) throw new Error('Redis is away');
    const where = this.held.get(d.consultationId) ?? 'here';
    if (where === 'elsewhere') this.sent.push(d);
    return where;
  }
  async orphaned(ids: string[]) {
    return ids.filter((id) => !this.held.has(id));
  }
}

describe('lifecycle timers in a region', () => {
  async function inCall(consultations: Consultations) {
    const { id } = await consultations.create({ patientPhone: '07700900123' }, 'key:test', holder);
    await consultations.markWaiting(id, 'patient');
    await consultations.startCall(id, 'clinician');
    return id;
  }

  it('sends an empty-room deadline to the node holding the call instead of ending it here, where nobody is present', async () => {
    const region = new FakeRegion();
    const { consultations, keeper, presence } = await boot(region);
    const id = await inCall(consultations);
    region.held.set(id, 'elsewhere');
    presence.present = 0; // this node holds nobody of that call
    await keeper.participantGone(id, 'someone');
    await vi.advanceTimersByTimeAsync(sec(times.emptyRoomGrace));
    expect(region.sent.map((d) => [d.consultationId, d.kind])).toEqual([[id, 'empty_room']]);
    expect((await consultations.get(id)).status).toBe('in_call');
    // The holder answers with its own view of presence: nobody there either, so the call ends.
    await keeper.ownerDue(region.sent[0] as Deadline);
    expect(await consultations.get(id)).toMatchObject({ status: 'ended', endedReason: 'room_empty' });
  });

  it('asks again shortly, and ends nothing, while the region cannot say where a call is held', async () => {
    const region = new FakeRegion();
    const { consultations, keeper, presence } = await boot(region);
    const id = await inCall(consultations);
    presence.present = 0;
    await keeper.participantGone(id, 'someone');
    region.reachable = false;
    await vi.advanceTimersByTimeAsync(sec(times.emptyRoomGrace + 10));
    expect((await consultations.get(id)).status).toBe('in_call');
    expect((await keeper.pending(id)).map((d) => d.kind)).toContain('empty_room');
    region.reachable = true; // held nowhere else: this node answers
    await vi.advanceTimersByTimeAsync(sec(3));
    expect(await consultations.get(id)).toMatchObject({ status: 'ended', endedReason: 'room_empty' });
  });

  it('fires the call limit wherever it is taken: it does not depend on who is present', async () => {
    const region = new FakeRegion();
    const { consultations } = await boot(region);
    const id = await inCall(consultations);
    region.held.set(id, 'elsewhere');
    await vi.advanceTimersByTimeAsync(sec(times.maxCallDuration));
    expect(await consultations.get(id)).toMatchObject({ status: 'ended', endedReason: 'call_time_limit' });
    expect(region.sent.map((d) => d.kind)).toEqual(['call_warning']);
  });

  it('gives the empty-room grace at start only to calls no node holds', async () => {
    const region = new FakeRegion();
    const first = await boot(region);
    const orphan = await inCall(first.consultations);
    const held = await inCall(first.consultations);
    await shutdown();
    region.held.set(held, 'elsewhere');
    const { keeper } = await boot(region);
    expect((await keeper.pending(orphan)).map((d) => d.kind)).toContain('empty_room');
    expect((await keeper.pending(held)).map((d) => d.kind)).not.toContain('empty_room');
  });
});
