/**
 * The tenancy core on a real store (SQLite, or PostgreSQL in the postgres project): practices, people, keys and staff sessions as the
 * store keeps them, the rights table, and what every start makes sure of (bootstrap).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashCode, newCode } from '../../../server/auth/codes.js';
import { can, grants, permissions } from '../../../server/auth/permissions.js';
import type { Principal } from '../../../server/auth/principal.js';
import { StaffSessions } from '../../../server/staff/sessions.js';
import { DEFAULT_PRACTICE_ID } from '../../../server/store/db.js';
import type { ConsultationRecord, Store } from '../../../server/store/store.js';
import { ApiKeys, CONFIGURED_KEY_ID } from '../../../server/tenancy/api-keys.js';
import { bootstrap } from '../../../server/tenancy/bootstrap.js';
import { People } from '../../../server/tenancy/people.js';
import { openTestStore } from '../../helpers/store.js';

const T0 = Date.UTC(2026, 10, 30, 9);
const MIN = 60_000;
let dir: string;
let store: Store;
let clock: number;
const now = () => clock;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'openconsult-tenancy-'));
  store = await openTestStore(dir);
  clock = T0;
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const people = () => new People({ store, now, publicUrl: () => 'https://vc.example.nhs.uk', setupLinkTtlSeconds: 3600 });
const codeOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
const addPractice = (id: string, odsCode: string) =>
  store.addPractice({ id, odsCode, name: `Practice ${odsCode}`, notifyTemplateId: null, status: 'active', createdAt: T0 });

describe('rights', () => {
  const user = (...roles: ('admin' | 'clinician' | 'receptionist')[]): Principal => ({ kind: 'user', practiceId: 'p', userId: 'u', roles, displayName: 'X' });
  const key: Principal = { kind: 'key', practiceId: 'p', keyId: 'k' };

  it('lets a receptionist create and re-send but not join, end or manage', () => {
    expect(permissions.filter((p) => can(user('receptionist'), p))).toEqual(['consultation.create', 'consultation.read', 'consultation.resend']);
  });

  it('lets an admin manage people and keys, but not start or join calls unless also a clinician', () => {
    expect(can(user('admin'), 'practice.manage')).toBe(true);
    expect(can(user('admin'), 'consultation.join')).toBe(false);
    expect(can(user('admin', 'clinician'), 'consultation.join')).toBe(true);
  });

  it('gives an API key every consultation right and no management', () => {
    expect(permissions.filter((p) => can(key, p))).toEqual(permissions.filter((p) => p !== 'practice.manage'));
    expect(grants.api_key).not.toContain('practice.manage');
  });
});

describe('the store', () => {
  it('starts with the default practice, and scopes consultation lists by practice and owner', async () => {
    expect(await store.getPractice(DEFAULT_PRACTICE_ID)).toMatchObject({ status: 'active' });
    await addPractice('b', 'B82002');
    const c = (id: string, practiceId: string, ownerUserId: string | null): ConsultationRecord => ({
      id, practiceId, ownerUserId, status: 'created', createdAt: T0, updatedAt: T0, expiresAt: T0 + MIN, endedReason: null,
      patientPhone: '+447700900123', patientName: null, clinicianName: null,
    });
    await store.createConsultation(c('a1', DEFAULT_PRACTICE_ID, 'u1'), [], []);
    await store.createConsultation(c('a2', DEFAULT_PRACTICE_ID, null), [], []);
    await store.createConsultation(c('b1', 'b', 'u1'), [], []);
    expect((await store.listConsultations(DEFAULT_PRACTICE_ID, 0)).map((x) => x.id).sort()).toEqual(['a1', 'a2']);
    expect((await store.listConsultations(DEFAULT_PRACTICE_ID, 0, 'u1')).map((x) => x.id)).toEqual(['a1']);
    expect((await store.listConsultations('b', 0)).map((x) => x.id)).toEqual(['b1']);
    await store.appendEvent({ consultationId: 'b1', at: T0, actor: 'system', type: 'created', detail: null });
    expect((await store.listEvents('b1'))[0]).toMatchObject({ practiceId: 'b' });
  });

  it('locks an account at the last allowed failure and starts counting afresh', async () => {
    const { user } = await people().invite(DEFAULT_PRACTICE_ID, { email: 'gp@nhs.net', displayName: 'Dr A', roles: ['clinician'] }, 'operator');
    for (let i = 1; i < 3; i++) expect(await store.recordLoginFailure(user.id, T0, 3, 15 * MIN)).toMatchObject({ failedLogins: i, lockedUntil: null });
    expect(await store.recordLoginFailure(user.id, T0, 3, 15 * MIN)).toMatchObject({ failedLogins: 0, lockedUntil: T0 + 15 * MIN });
  });

  it('uses a set-up link once, never after it expires or is replaced', async () => {
    const p = people();
    const first = await p.invite(DEFAULT_PRACTICE_ID, { email: 'nurse@nhs.net', displayName: 'N', roles: ['clinician'] }, 'operator');
    const second = await p.reissueSetupLink(first.user.id, 'operator');
    expect(await store.takeSetupLink(hashCode(codeOf(first.setupUrl)), T0)).toBeUndefined();
    expect(await store.takeSetupLink(hashCode(codeOf(second.setupUrl)), T0)).toMatchObject({ userId: first.user.id });
    expect(await store.takeSetupLink(hashCode(codeOf(second.setupUrl)), T0)).toBeUndefined();
    const third = await p.reissueSetupLink(first.user.id, 'operator');
    expect(await store.takeSetupLink(hashCode(codeOf(third.setupUrl)), T0 + 3600_000)).toBeUndefined();
  });

  it('refuses a second account with the same e-mail, whatever its case', async () => {
    await people().invite(DEFAULT_PRACTICE_ID, { email: 'Dr.Who@nhs.net', displayName: 'A', roles: ['clinician'] }, 'operator');
    await expect(people().invite(DEFAULT_PRACTICE_ID, { email: 'dr.who@NHS.net', displayName: 'B', roles: ['admin'] }, 'operator'))
      .rejects.toMatchObject({ code: 'invalid_state' });
  });
});

describe('API keys', () => {
  const keys = () => new ApiKeys({ store, now, rotationGraceSeconds: 600 });

  it('knows a new key at once, and not after it is revoked', async () => {
    const { key, record } = await keys().create(DEFAULT_PRACTICE_ID, 'EMIS', 'user:u1');
    expect(key).toMatch(/^ock_[A-Za-z0-9_-]{43}$/);
    expect(await keys().check(key)).toMatchObject({ ok: true, key: { id: record.id, practiceId: DEFAULT_PRACTICE_ID } });
    expect(await keys().check(`${key}x`)).toEqual({ ok: false, reason: 'unknown' });
    await keys().revoke(DEFAULT_PRACTICE_ID, record.id, 'user:u1');
    expect(await keys().check(key)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('keeps a rotated key working for the grace, beside its replacement', async () => {
    const old = await keys().create(DEFAULT_PRACTICE_ID, 'EMIS', 'user:u1');
    const rotated = await keys().rotate(DEFAULT_PRACTICE_ID, old.record.id, 'user:u1');
    expect(rotated.record.name).toBe('EMIS');
    expect((await keys().check(old.key)).ok).toBe(true);
    expect((await keys().check(rotated.key)).ok).toBe(true);
    clock = T0 + 600_000;
    expect(await keys().check(old.key)).toEqual({ ok: false, reason: 'expired' });
    expect((await keys().check(rotated.key)).ok).toBe(true);
  });

  it('answers another practice\'s key id as unknown', async () => {
    await addPractice('b', 'B82002');
    const { record } = await keys().create('b', 'B system', 'user:u2');
    await expect(keys().revoke(DEFAULT_PRACTICE_ID, record.id, 'user:u1')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('every start', () => {
  const start = (apiKey = 'k'.repeat(32), practiceOdsCode: string | undefined = 'A81001') =>
    bootstrap({ store, people: people(), now, practiceName: 'Riverside Surgery', practiceOdsCode, apiKey });

  it('names the default practice from config and makes API_KEY its key', async () => {
    await start();
    expect(await store.getPractice(DEFAULT_PRACTICE_ID)).toMatchObject({ name: 'Riverside Surgery', odsCode: 'A81001' });
    const keys = new ApiKeys({ store, now, rotationGraceSeconds: 0 });
    expect(await keys.check('k'.repeat(32))).toMatchObject({ ok: true, key: { id: CONFIGURED_KEY_ID, practiceId: DEFAULT_PRACTICE_ID } });
    await start('n'.repeat(32));
    expect((await keys.check('k'.repeat(32))).ok).toBe(false);
    expect((await keys.check('n'.repeat(32))).ok).toBe(true);
    await expect(keys.revoke(DEFAULT_PRACTICE_ID, CONFIGURED_KEY_ID, 'user:u')).rejects.toMatchObject({ code: 'invalid_state' });
  });

  it('gives a first-admin link at each start until an admin has set up, the earlier one then dead', async () => {
    const first = await start();
    const second = await start();
    expect(first.firstAdminSetupCode).toBeDefined();
    expect(second.firstAdminSetupCode).not.toBe(first.firstAdminSetupCode);
    expect(await store.takeSetupLink(hashCode(first.firstAdminSetupCode ?? ''), T0)).toBeUndefined();
    const admins = (await store.listUsers(DEFAULT_PRACTICE_ID)).filter((u) => u.roles.includes('admin'));
    expect(admins).toHaveLength(1);
    await store.updateUser(admins[0]!.id, { status: 'active' }, T0);
    expect((await start()).firstAdminSetupCode).toBeUndefined();
  });
});

describe('staff sessions', () => {
  const sessions = () => new StaffSessions(store, { idleSeconds: 30 * 60, maxSeconds: 12 * 3600, secure: false }, now);
  /** A request carrying the cookie, and a reply that records what it was told to set. */
  const request = (id: string | undefined, csrf?: string) =>
    ({ cookies: id ? { oc_staff: id } : {}, headers: csrf ? { 'x-csrf-token': csrf } : {} }) as unknown as FastifyRequest;

  async function signedIn() {
    const { user } = await people().invite(DEFAULT_PRACTICE_ID, { email: 'gp@nhs.net', displayName: 'Dr A', roles: ['clinician'] }, 'operator');
    await store.updateUser(user.id, { status: 'active' }, T0);
    let cookie: string | undefined;
    const reply = { setCookie: (_name: string, value: string) => { cookie = value; } } as never;
    const session = await sessions().start(reply, { ...user, status: 'active' }, false);
    return { user, session, cookie: cookie as string };
  }

  it('ends after the idle time without requests, and is kept alive by them', async () => {
    const { cookie } = await signedIn();
    clock = T0 + 20 * MIN;
    expect(await sessions().resolve(request(cookie))).toBeDefined();
    clock = T0 + 45 * MIN;
    expect(await sessions().resolve(request(cookie))).toBeDefined();
    clock = T0 + 76 * MIN;
    expect(await sessions().resolve(request(cookie))).toBeUndefined();
  });

  it('ends at its absolute lifetime however busy', async () => {
    const { cookie } = await signedIn();
    for (clock = T0; clock < T0 + 12 * 3600_000; clock += 20 * MIN) expect(await sessions().resolve(request(cookie))).toBeDefined();
    expect(await sessions().resolve(request(cookie))).toBeUndefined();
  });

  it('ends when the user is disabled, and tells a suspended practice\'s user why', async () => {
    const { user, cookie } = await signedIn();
    await store.updatePractice(DEFAULT_PRACTICE_ID, { status: 'suspended' });
    await expect(sessions().resolve(request(cookie))).rejects.toMatchObject({ code: 'practice_suspended' });
    await store.updatePractice(DEFAULT_PRACTICE_ID, { status: 'active' });
    await people().disable(user.id, 'operator');
    expect(await sessions().resolve(request(cookie))).toBeUndefined();
  });

  it('checks the CSRF token exactly', async () => {
    const { session } = await signedIn();
    expect(() => sessions().checkCsrf(request(undefined, session.csrfToken), session)).not.toThrow();
    const last = session.csrfToken.slice(-1);
    const other = `${session.csrfToken.slice(0, -1)}${last === 'x' ? 'y' : 'x'}`;
    expect(() => sessions().checkCsrf(request(undefined, other), session)).toThrow(expect.objectContaining({ code: 'csrf_failed' }));
    expect(() => sessions().checkCsrf(request(undefined), session)).toThrow(expect.objectContaining({ code: 'csrf_failed' }));
  });

  it('never knows a cookie it did not issue', async () => {
    await signedIn();
    expect(await sessions().resolve(request(newCode()))).toBeUndefined();
  });
});
