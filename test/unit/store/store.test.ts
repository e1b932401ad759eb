/**
 * The store's contract, on SQLite here and on PostgreSQL in the postgres project (the titles keep
 * their SqliteStore names: the hazard log cites them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashCode, newCode } from '../../../server/auth/codes.js';
import type { Deadline, LinkRecord, Store } from '../../../server/store/store.js';
import { openTestStore, rawRows } from '../../helpers/store.js';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const TTL = 15 * 60 * 1000;

let dir: string;
let store: Store;

async function seed(id: string): Promise<{ patientCode: string; clinicianCode: string }> {
  const patientCode = newCode();
  const clinicianCode = newCode();
  const link = (participantId: string, code: string): LinkRecord => ({
    codeHash: hashCode(code), consultationId: id, participantId, expiresAt: T0 + TTL, redeemedAt: null, revokedAt: null,
  });
  await store.createConsultation(
    {
      id, practiceId: 'default', status: 'created', createdAt: T0, updatedAt: T0, expiresAt: T0 + TTL, endedReason: null,
      patientPhone: '+447700900123', patientName: 'Pat', clinicianName: 'Dr Who',
    },
    [
      { id: `${id}-pat`, consultationId: id, role: 'patient', displayName: 'Pat' },
      { id: `${id}-doc`, consultationId: id, role: 'clinician', displayName: 'Dr Who' },
    ],
    [link(`${id}-pat`, patientCode), link(`${id}-doc`, clinicianCode)],
  );
  return { patientCode, clinicianCode };
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'openconsult-store-'));
  store = await openTestStore(dir);
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStore links', () => {
  it('redeems a link before its expiry, naming the participant and role', async () => {
    const { patientCode } = await seed('c1');
    const r = await store.redeemLink(hashCode(patientCode), T0 + 1000);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.role).toBe('patient');
    expect(r.link).toMatchObject({ consultationId: 'c1', participantId: 'c1-pat', redeemedAt: T0 + 1000 });
  });

  it('redeems a clinician link as the clinician', async () => {
    const { clinicianCode } = await seed('c1');
    const r = await store.redeemLink(hashCode(clinicianCode), T0);
    expect(r).toMatchObject({ ok: true, role: 'clinician', link: { participantId: 'c1-doc' } });
  });

  it('refuses a replayed link', async () => {
    const { patientCode } = await seed('c1');
    expect((await store.redeemLink(hashCode(patientCode), T0 + 1000)).ok).toBe(true);
    expect(await store.redeemLink(hashCode(patientCode), T0 + 2000)).toEqual({ ok: false, reason: 'used' });
  });

  it('refuses a link at and after its expiry', async () => {
    const { patientCode, clinicianCode } = await seed('c1');
    expect(await store.redeemLink(hashCode(patientCode), T0 + TTL)).toEqual({ ok: false, reason: 'expired' });
    expect(await store.redeemLink(hashCode(clinicianCode), T0 + TTL + 1)).toEqual({ ok: false, reason: 'expired' });
    // An expired link stays unused: refusing it does not consume it.
    expect(await store.redeemLink(hashCode(patientCode), T0 + TTL + 5000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('reports a link used rather than expired when it was used before expiring', async () => {
    const { patientCode } = await seed('c1');
    expect((await store.redeemLink(hashCode(patientCode), T0)).ok).toBe(true);
    expect(await store.redeemLink(hashCode(patientCode), T0 + TTL + 1)).toEqual({ ok: false, reason: 'used' });
  });

  it('does not know a code it never issued', async () => {
    await seed('c1');
    expect(await store.redeemLink(hashCode(newCode()), T0)).toEqual({ ok: false, reason: 'not_found' });
  });

  it('keeps one link redeemable while the other of the same consultation is used', async () => {
    const { patientCode, clinicianCode } = await seed('c1');
    expect((await store.redeemLink(hashCode(patientCode), T0)).ok).toBe(true);
    expect((await store.redeemLink(hashCode(clinicianCode), T0)).ok).toBe(true);
  });

  it('keeps a redemption across a reopen of the database', async () => {
    const { patientCode } = await seed('c1');
    expect((await store.redeemLink(hashCode(patientCode), T0)).ok).toBe(true);
    await store.close();
    store = await openTestStore(dir);
    expect(await store.redeemLink(hashCode(patientCode), T0)).toEqual({ ok: false, reason: 'used' });
    expect((await store.getConsultation('c1'))?.status).toBe('created');
  });

  it('refuses a link of an ended consultation without using it up, and says so before used or expired', async () => {
    const { patientCode, clinicianCode } = await seed('c1');
    expect((await store.redeemLink(hashCode(clinicianCode), T0)).ok).toBe(true);
    expect(await store.setStatus('c1', 'created', 'ended', T0 + 1)).toBe(true);
    expect(await store.redeemLink(hashCode(patientCode), T0 + 2)).toEqual({ ok: false, reason: 'closed' });
    expect(await store.redeemLink(hashCode(clinicianCode), T0 + 2)).toEqual({ ok: false, reason: 'closed' });
    expect(await store.redeemLink(hashCode(patientCode), T0 + TTL)).toEqual({ ok: false, reason: 'closed' });
    expect(await store.findLink(hashCode(patientCode))).toMatchObject({ redeemedAt: null });
  });

  it('stores only the hash of a code, never the code itself', async () => {
    const { patientCode } = await seed('c1');
    const rows = await rawRows(dir, 'links');
    expect(JSON.stringify(rows)).not.toContain(patientCode);
    expect(JSON.stringify(rows)).toContain(hashCode(patientCode));
  });
});

describe('SqliteStore sessions', () => {
  it('revokes sessions by bumping the epoch a redemption hands out, and forgets the admission with them', async () => {
    const { patientCode } = await seed('c1');
    const first = await store.redeemLink(hashCode(patientCode), T0);
    expect(first.ok && first.epoch).toBe(0);
    await store.markAdmitted('c1-pat', T0 + 1);
    await store.revokeSessions('c1-pat', T0 + 2, 'keep');
    expect(await store.getParticipant('c1-pat')).toMatchObject({ sessionEpoch: 1, admittedAt: null });

    const fresh = newCode();
    await store.replaceLink({ codeHash: hashCode(fresh), consultationId: 'c1', participantId: 'c1-pat', expiresAt: T0 + TTL, redeemedAt: null, revokedAt: null }, T0 + 3);
    const second = await store.redeemLink(hashCode(fresh), T0 + 4);
    expect(second.ok && second.epoch).toBe(1);
  });

  it('with `revoke`, also ends the links not yet used (a removed person cannot come back with theirs)', async () => {
    const { patientCode, clinicianCode } = await seed('c1');
    await store.revokeSessions('c1-pat', T0, 'revoke');
    expect(await store.redeemLink(hashCode(patientCode), T0 + 1)).toEqual({ ok: false, reason: 'used' });
    expect((await store.redeemLink(hashCode(clinicianCode), T0 + 1)).ok).toBe(true);
    expect(await store.getParticipant('c1-doc')).toMatchObject({ sessionEpoch: 0 });
  });
});

describe('SqliteStore status', () => {
  it('moves status compare-and-set: only from the state the caller saw', async () => {
    await seed('c1');
    expect(await store.setStatus('c1', 'created', 'waiting', T0 + 1)).toBe(true);
    expect(await store.setStatus('c1', 'created', 'ended', T0 + 2)).toBe(false);
    expect(await store.getConsultation('c1')).toMatchObject({ status: 'waiting', updatedAt: T0 + 1 });
    expect(await store.setStatus('c1', 'waiting', 'ended', T0 + 3, 'ended_by_api')).toBe(true);
    expect(await store.getConsultation('c1')).toMatchObject({ status: 'ended', endedReason: 'ended_by_api' });
  });
});

describe('SqliteStore deadlines', () => {
  it('hands each due deadline out once, earliest first, and keeps the ones not yet due', async () => {
    await seed('c1');
    await store.setDeadline({ consultationId: 'c1', kind: 'call_limit', participantId: '', dueAt: T0 + 30 });
    await store.setDeadline({ consultationId: 'c1', kind: 'reconnect', participantId: 'c1-pat', dueAt: T0 + 10 });
    await store.setDeadline({ consultationId: 'c1', kind: 'empty_room', participantId: '', dueAt: T0 + 20 });
    // Two takers at once: on PostgreSQL either may get there first (or each take a share).
    const takes = await Promise.all([store.takeDueDeadlines(T0 + 20), store.takeDueDeadlines(T0 + 20)]);
    const byDue = (ds: Deadline[]) => [...ds].sort((x, y) => x.dueAt - y.dueAt);
    expect(byDue(takes.flat()).map((d) => d.kind)).toEqual(['reconnect', 'empty_room']); // each handed out once
    for (const t of takes) expect(t).toEqual(byDue(t)); // earliest first
    expect(await store.nextDeadline()).toMatchObject({ kind: 'call_limit', dueAt: T0 + 30 });
  });
});

describe('the store: deadlines across nodes', () => {
  it('hands each due deadline to one of two stores on the same database, never to both', async () => {
    await seed('c1');
    const other = await openTestStore(dir);
    try {
      for (let i = 0; i < 40; i++) await store.setDeadline({ consultationId: 'c1', kind: 'reconnect', participantId: `p${i}`, dueAt: T0 + i });
      const taken = (await Promise.all([store, other, store, other].map((s) => s.takeDueDeadlines(T0 + 100)))).flat();
      expect(taken.map((d) => d.participantId).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `p${i}`).sort());
      expect(await other.nextDeadline()).toBeUndefined();
    } finally {
      await other.close();
    }
  });
});

describe('the store: TOTP steps', () => {
  it('accepts a step once, compare-and-set, and never an earlier one', async () => {
    await store.addUser({
      id: 'u1', practiceId: 'default', email: 'gp@example.nhs.uk', displayName: 'Dr A', roles: ['clinician'], status: 'active',
      oidcSubject: null, passwordHash: null, totpSecret: null, lastTotpStep: null, failedLogins: 0, lockedUntil: null, createdAt: T0,
    });
    const race = await Promise.all(Array.from({ length: 10 }, () => store.acceptTotpStep('u1', 100)));
    expect(race.filter(Boolean)).toHaveLength(1);
    expect(await store.acceptTotpStep('u1', 99)).toBe(false);
    expect(await store.acceptTotpStep('u1', 101)).toBe(true);
    expect((await store.getUser('u1'))?.lastTotpStep).toBe(101);
    expect(await store.acceptTotpStep('nobody', 102)).toBe(false);
  });
});
