/**
 * Data retention with a fake clock: phone numbers and names go RETENTION_DAYS after a
 * consultation ends or expires; the consultation, its status and its audit log stay; the SMS
 * outbox loses the cleared consultations' lines; open consultations keep everything.
 */
import { defaultHolder } from '../../helpers/holder.js';
import type { Holder } from '../../../server/consultations/service.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashCode } from '../../../server/auth/codes.js';
import { Consultations } from '../../../server/consultations/service.js';
import { createLogger } from '../../../server/log.js';
import { Retention } from '../../../server/retention.js';
import { OutboxSms } from '../../../server/sms/outbox.js';
import { DB_FILE_NAME, openDb } from '../../../server/store/db.js';
import { SqliteStore } from '../../../server/store/sqlite/store.js';

const DAY = 24 * 3600 * 1000;
const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);

let dir: string;
let holder: Holder;
let outbox: string;
let store: SqliteStore;
let clock: number;
let consultations: Consultations;
let retention: Retention;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'openconsult-retention-'));
  outbox = path.join(dir, 'sms-outbox.jsonl');
  store = new SqliteStore(openDb(path.join(dir, DB_FILE_NAME)));
  clock = T0;
  const now = () => clock;
  const logger = createLogger('silent');
  consultations = new Consultations({
    times: { waitingTimeout: 1800, maxCallDuration: 5400 },
    store, sms: new OutboxSms(outbox), logger, now, linkTtlSeconds: 3600, publicUrl: () => 'https://v.example',
  });
  holder = await defaultHolder(store, 'Riverside Surgery');
  retention = new Retention({ store, now, days: 30, staffIdleSeconds: 1800, logger, outboxFile: outbox });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The raw row, as anyone opening the database file would see it. */
function rows(id: string) {
  const db = new Database(path.join(dir, DB_FILE_NAME), { readonly: true });
  try {
    return {
      consultation: db.prepare('SELECT * FROM consultations WHERE id = ?').get(id) as Record<string, unknown>,
      participants: db.prepare('SELECT role, display_name FROM participants WHERE consultation_id = ?').all(id) as { role: string; display_name: string | null }[],
    };
  } finally {
    db.close();
  }
}

async function finishedCall(): Promise<string> {
  const c = await consultations.create({ patientPhone: '07700 900123', patientName: 'Ann Example', clinicianName: 'Dr Bell' }, 'key:test', holder);
  await consultations.invite(c.id, { label: 'Interpreter', name: 'Ivo Interpreter', phone: '07700 900456' }, 'clinician');
  await consultations.markWaiting(c.id, 'patient');
  clock += 60_000;
  await consultations.startCall(c.id, 'clinician');
  clock += 10 * 60_000;
  await consultations.end(c.id, 'clinician', 'ended_by_clinician');
  return c.id;
}

describe('data retention', () => {
  it('keeps personal data until the retention period after the end has passed', async () => {
    const id = await finishedCall();
    const endedAt = clock;
    clock = endedAt + 30 * DAY - 1;
    expect((await retention.runOnce()).consultations).toEqual([]);
    expect(rows(id).consultation).toMatchObject({ patient_phone: '+447700900123', patient_name: 'Ann Example', clinician_name: 'Dr Bell' });
  });

  it('deletes phone numbers and names after it, keeping the consultation, its status and its audit log', async () => {
    const id = await finishedCall();
    const eventsBefore = await store.listEvents(id);
    clock += 30 * DAY + 1;
    expect((await retention.runOnce()).consultations).toEqual([id]);

    const { consultation, participants } = rows(id);
    expect(consultation).toMatchObject({
      id, status: 'ended', ended_reason: 'ended_by_clinician', patient_phone: null, patient_name: null, clinician_name: null,
      personal_data_deleted_at: clock,
    });
    expect(participants).toHaveLength(3);
    for (const p of participants) expect(p.display_name).toBeNull();

    const eventsAfter = await store.listEvents(id);
    expect(eventsAfter.slice(0, eventsBefore.length)).toEqual(eventsBefore);
    expect(eventsAfter.map((e) => e.type)).toEqual(expect.arrayContaining(['created', 'status', 'sms_sent', 'guest_invited']));
    expect(eventsAfter.at(-1)).toMatchObject({ type: 'personal_data_deleted', actor: 'system', at: clock, detail: { retentionDays: 30 } });
    expect(JSON.stringify(eventsAfter)).not.toMatch(/Ann|Bell|Ivo|7700/);
  });

  it('removes the SMS outbox lines (numbers and links) of cleared consultations', async () => {
    const old = await finishedCall();
    expect(readFileSync(outbox, 'utf8')).toContain('+447700900456');
    clock += 31 * DAY;
    const recent = await consultations.create({ patientPhone: '07700 900789' }, 'key:test', holder);
    const result = await retention.runOnce();
    expect(result).toEqual({ consultations: [old], outboxLines: 2, staffSessions: 0 });
    const left = readFileSync(outbox, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { consultationId: string });
    expect(left.map((l) => l.consultationId)).toEqual([recent.id]);
  });

  it('removes an outbox line once its link is used, replaced or expired, and keeps live links', async () => {
    const codeIn = (id: string) => {
      const line = readFileSync(outbox, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { consultationId: string; body: string })
        .find((l) => l.consultationId === id);
      return /\/j\/([A-Za-z0-9_-]{22})/.exec(line?.body ?? '')?.[1] as string;
    };
    const expiring = await consultations.create({ patientPhone: '07700 900301' }, 'key:test', holder);
    clock += 30 * 60_000;
    const used = await consultations.create({ patientPhone: '07700 900302' }, 'key:test', holder);
    const live = await consultations.create({ patientPhone: '07700 900303' }, 'key:test', holder);
    expect((await store.redeemLink(hashCode(codeIn(used.id)), clock)).ok).toBe(true);
    const resent = await consultations.create({ patientPhone: '07700 900304' }, 'key:test', holder);
    const firstCode = codeIn(resent.id);
    await consultations.resend(resent.id, 'key:test');
    clock += 31 * 60_000; // the first link's hour is over; the others were sent within it

    expect(await retention.runOnce()).toEqual({ consultations: [], outboxLines: 3, staffSessions: 0 });
    const text = readFileSync(outbox, 'utf8');
    for (const gone of [codeIn(expiring.id), firstCode]) expect(text).not.toContain(gone);
    expect(text).not.toContain(used.id);
    const left = text.trim().split('\n').map((l) => JSON.parse(l) as { consultationId: string });
    expect(left.map((l) => l.consultationId)).toEqual([live.id, resent.id]);
    expect(await retention.runOnce()).toEqual({ consultations: [], outboxLines: 0, staffSessions: 0 });
  });

  it('clears expired consultations too, and leaves open ones alone however old', async () => {
    const expired = await consultations.create({ patientPhone: '07700 900111', patientName: 'Old Link' }, 'key:test', holder);
    await consultations.expire(expired.id, 'link_expired');
    const open = await consultations.create({ patientPhone: '07700 900222', patientName: 'Still Open' }, 'key:test', holder);
    clock += 90 * DAY;
    expect((await retention.runOnce()).consultations).toEqual([expired.id]);
    expect(rows(expired.id).consultation).toMatchObject({ status: 'expired', patient_phone: null, patient_name: null });
    expect(rows(open.id).consultation).toMatchObject({ status: 'created', patient_phone: '+447700900222', patient_name: 'Still Open' });
  });

  it('clears each consultation once, however often it runs', async () => {
    const id = await finishedCall();
    clock += 31 * DAY;
    expect((await retention.runOnce()).consultations).toEqual([id]);
    clock += DAY;
    expect(await retention.runOnce()).toEqual({ consultations: [], outboxLines: 0, staffSessions: 0 });
    expect((await store.listEvents(id)).filter((e) => e.type === 'personal_data_deleted')).toHaveLength(1);
  });

  it('leaves no deleted number in the database file', async () => {
    const id = await finishedCall();
    clock += 31 * DAY;
    await retention.runOnce();
    await store.close();
    const bytes = readFileSync(path.join(dir, DB_FILE_NAME));
    expect(bytes.includes('+447700900123')).toBe(false);
    expect(bytes.includes('Ann Example')).toBe(false);
    store = new SqliteStore(openDb(path.join(dir, DB_FILE_NAME)));
    expect((await store.getConsultation(id))?.status).toBe('ended');
  });

  it('removes staff sign-in sessions once they are past their end, and keeps live ones', async () => {
    const user = { id: 'u1', practiceId: 'default', email: 'gp@nhs.net', displayName: 'Dr A', roles: ['clinician' as const], status: 'active' as const,
      oidcSubject: null, passwordHash: null, totpSecret: null, lastTotpStep: null, failedLogins: 0, lockedUntil: null, createdAt: clock };
    await store.addUser(user);
    const session = (idHash: string, lastSeenAt: number, expiresAt: number) =>
      store.addStaffSession({ idHash, userId: 'u1', csrfToken: 't', createdAt: clock - 3600_000, lastSeenAt, expiresAt });
    await session('idle', clock - 31 * 60_000, clock + 3600_000);
    await session('over', clock - 60_000, clock);
    await session('live', clock - 60_000, clock + 3600_000);
    expect((await retention.runOnce()).staffSessions).toBe(2);
    expect(await store.getStaffSession('live')).toBeDefined();
    expect(await store.getStaffSession('idle')).toBeUndefined();
  });
});
