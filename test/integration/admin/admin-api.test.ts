/**
 * The admin API (/api/v1/admin/) and `GET /api/v1/me` on the real server: each action, its
 * validation, the practice's isolation (another practice's user or key is the same 404 as an
 * unknown one), API keys and non-admins refused, CSRF required, the last admin kept, and keys
 * that take effect at once (created, revoked) or after the rotation grace (a test clock).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PRACTICE_ID } from '../../../server/store/db.js';
import { type TestServer, startServer } from '../../helpers/server.js';
import { type Staff, addPractice, signedIn, staffCall } from '../../helpers/staff.js';

const GRACE_S = 600;
let clock = Date.now();
let server: TestServer;
let admin: Staff;
let otherAdmin: Staff;

beforeAll(async () => {
  server = await startServer({ keyRotationGrace: GRACE_S }, { now: () => clock });
  admin = await signedIn(server, { roles: ['admin'], displayName: 'Ada Admin', now: clock });
  const other = await addPractice(server, 'B99999');
  otherAdmin = await signedIn(server, { roles: ['admin'], practiceId: other.id, now: clock });
});

afterAll(async () => {
  await server?.close();
});

const call = (who: Staff, method: string, route: string, body?: unknown, opts?: { csrf?: boolean }) =>
  staffCall(server, who, method, route, body, opts);

describe('GET /api/v1/me', () => {
  it('names the signed-in person, their practice, their CSRF token and their rights', async () => {
    const clinician = await signedIn(server, { roles: ['clinician'], displayName: 'Dr Bell', now: clock });
    const me = await call(clinician, 'GET', '/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body.user).toEqual({ id: clinician.user.id, displayName: 'Dr Bell', email: clinician.user.email, roles: ['clinician'] });
    expect(me.body.practice.odsCode).toBeTypeOf('string');
    expect(me.body.csrfToken).toBe(clinician.csrfToken);
    expect(me.body.rights).toContain('consultation.join');
    expect(me.body.rights).not.toContain('practice.manage');

    const reception = await signedIn(server, { roles: ['receptionist'], now: clock });
    expect((await call(reception, 'GET', '/api/v1/me')).body.rights).toEqual(['consultation.create', 'consultation.read', 'consultation.resend']);
    expect((await call(admin, 'GET', '/api/v1/me')).body.rights).toContain('practice.manage');
  });

  it('answers an API key with no user and the key\'s rights, and anyone else with 401', async () => {
    const me = await server.api('GET', '/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user: null, csrfToken: null });
    expect(me.body.rights).toContain('consultation.create');
    expect(me.body.rights).not.toContain('practice.manage');
    const anon = await fetch(`${server.url}/api/v1/me`);
    expect(anon.status).toBe(401);
  });
});

describe('the admin API: people', () => {
  it('invites a person (the set-up link shown once), lists, sets roles, disables, enables, issues a new link', async () => {
    const invited = await call(admin, 'POST', '/api/v1/admin/users', { email: 'nina.nurse@example.nhs.uk', displayName: 'Nina Nurse', roles: ['clinician'] });
    expect(invited.status).toBe(201);
    expect(invited.body.setupUrl).toMatch(/\/setup\/[A-Za-z0-9_-]{22,}$/);
    expect(invited.body.user).toMatchObject({ displayName: 'Nina Nurse', roles: ['clinician'], status: 'invited' });
    const id = invited.body.user.id as string;

    const list = await call(admin, 'GET', '/api/v1/admin/users');
    expect(list.status).toBe(200);
    expect(list.body.users.find((u: { id: string }) => u.id === id)).toMatchObject({ email: 'nina.nurse@example.nhs.uk', status: 'invited' });
    expect(JSON.stringify(list.body)).not.toContain('/setup/');

    const roles = await call(admin, 'PUT', `/api/v1/admin/users/${id}/roles`, { roles: ['clinician', 'admin'] });
    expect(roles.status).toBe(200);
    expect(roles.body.user.roles).toEqual(['clinician', 'admin']);

    const again = await call(admin, 'POST', `/api/v1/admin/users/${id}/setup-link`);
    expect(again.status).toBe(201);
    expect(again.body.setupUrl).not.toBe(invited.body.setupUrl);

    await server.app.store.updateUser(id, { status: 'active', passwordHash: 'set-up' }, clock);
    const disabled = await call(admin, 'POST', `/api/v1/admin/users/${id}/disable`);
    expect(disabled.body.user.status).toBe('disabled');
    expect((await call(admin, 'POST', `/api/v1/admin/users/${id}/setup-link`)).body.error.code).toBe('invalid_state');
    const enabled = await call(admin, 'POST', `/api/v1/admin/users/${id}/enable`);
    expect(enabled.body.user.status).toBe('active');
    expect((await call(admin, 'POST', `/api/v1/admin/users/${id}/enable`)).body.user.status).toBe('active');

    const events = await call(admin, 'GET', '/api/v1/admin/events');
    const types = events.body.events.filter((e: { detail: { userId?: string } | null }) => e.detail?.userId === id).map((e: { type: string }) => e.type);
    expect(types).toEqual(['user_enabled', 'user_disabled', 'setup_link_issued', 'user_roles_set', 'user_invited']);
    expect(events.body.events.every((e: { actor: string }) => /^(user|key):|^(system|operator)$/.test(e.actor))).toBe(true);
    expect(JSON.stringify(events.body)).not.toContain('Nina');
    expect(JSON.stringify(events.body)).not.toContain('nina.nurse');
  });

  it('refuses bad input with a coded error', async () => {
    const bad = [
      { email: 'not-an-address', displayName: 'X', roles: ['clinician'] },
      { email: 'x@example.nhs.uk', displayName: 'X', roles: [] },
      { email: 'x@example.nhs.uk', displayName: 'X', roles: ['superuser'] },
      { email: 'x@example.nhs.uk', displayName: '   ', roles: ['clinician'] },
      { email: 'x@example.nhs.uk', displayName: 'X', roles: ['clinician'], extra: 1 },
    ];
    for (const body of bad) {
      const res = await call(admin, 'POST', '/api/v1/admin/users', body);
      expect([res.status, res.body.error.code], JSON.stringify(body)).toEqual([400, 'validation_failed']);
    }
    const dup = await call(admin, 'POST', '/api/v1/admin/users', { email: admin.user.email, displayName: 'Twin', roles: ['clinician'] });
    expect([dup.status, dup.body.error.code]).toEqual([409, 'invalid_state']);
    expect((await call(admin, 'PUT', `/api/v1/admin/users/${admin.user.id}/roles`, { roles: ['nurse'] })).status).toBe(400);
    expect((await call(admin, 'POST', '/api/v1/admin/keys', { name: '' })).status).toBe(400);
    expect((await call(admin, 'POST', '/api/v1/admin/users/no%20such/disable')).status).toBe(400);
  });

  it('answers another practice\'s user as unknown (404), and its list holds only its own', async () => {
    for (const [method, route, body] of [
      ['PUT', `/api/v1/admin/users/${otherAdmin.user.id}/roles`, { roles: ['clinician'] }],
      ['POST', `/api/v1/admin/users/${otherAdmin.user.id}/disable`],
      ['POST', `/api/v1/admin/users/${otherAdmin.user.id}/enable`],
      ['POST', `/api/v1/admin/users/${otherAdmin.user.id}/setup-link`],
      ['POST', '/api/v1/admin/users/does-not-exist/disable'],
    ] as const) {
      const res = await call(admin, method, route, body);
      expect([res.status, res.body.error.code], route).toEqual([404, 'not_found']);
    }
    const mine = (await call(admin, 'GET', '/api/v1/admin/users')).body.users.map((u: { id: string }) => u.id);
    expect(mine).toContain(admin.user.id);
    expect(mine).not.toContain(otherAdmin.user.id);
    const theirs = (await call(otherAdmin, 'GET', '/api/v1/admin/events')).body.events;
    expect(theirs.every((e: { detail: { userId?: string } | null }) => e.detail?.userId !== admin.user.id)).toBe(true);
  });

  it('refuses API keys and people without the admin role (403), and a state change without the CSRF token', async () => {
    const key = await server.api('GET', '/api/v1/admin/users');
    expect([key.status, key.body.error.code]).toEqual([403, 'forbidden']);
    const keyInvite = await server.api('POST', '/api/v1/admin/users', { email: 'k@example.nhs.uk', displayName: 'K', roles: ['admin'] });
    expect(keyInvite.status).toBe(403);
    const clinician = await signedIn(server, { roles: ['clinician'], now: clock });
    expect((await call(clinician, 'GET', '/api/v1/admin/keys')).status).toBe(403);
    expect((await call(clinician, 'POST', '/api/v1/admin/keys', { name: 'mine' })).status).toBe(403);
    const noCsrf = await call(admin, 'POST', '/api/v1/admin/keys', { name: 'EMIS' }, { csrf: false });
    expect([noCsrf.status, noCsrf.body.error.code]).toEqual([403, 'csrf_failed']);
    expect((await fetch(`${server.url}/api/v1/admin/users`)).status).toBe(401);
  });

  it('keeps an admin: the only admin cannot disable or demote themself; with another admin, still not themself', async () => {
    const fresh = await startServer();
    try {
      const only = await signedIn(fresh, { roles: ['admin', 'clinician'] });
      const demote = await staffCall(fresh, only, 'PUT', `/api/v1/admin/users/${only.user.id}/roles`, { roles: ['clinician'] });
      expect([demote.status, demote.body.error.code]).toEqual([409, 'invalid_state']);
      expect(demote.body.error.message).toContain('only admin');
      const disable = await staffCall(fresh, only, 'POST', `/api/v1/admin/users/${only.user.id}/disable`);
      expect(disable.body.error.message).toContain('only admin');
      // Other roles of their own may change.
      expect((await staffCall(fresh, only, 'PUT', `/api/v1/admin/users/${only.user.id}/roles`, { roles: ['admin'] })).status).toBe(200);

      const second = await signedIn(fresh, { roles: ['admin'] });
      const self = await staffCall(fresh, only, 'POST', `/api/v1/admin/users/${only.user.id}/disable`);
      expect([self.status, self.body.error.message]).toEqual([409, 'You cannot disable your own account: ask another admin of the practice.']);
      const selfDemote = await staffCall(fresh, only, 'PUT', `/api/v1/admin/users/${only.user.id}/roles`, { roles: ['receptionist'] });
      expect(selfDemote.body.error.message).toBe('You cannot remove your own admin role: ask another admin of the practice.');
      // Another admin may do it.
      expect((await staffCall(fresh, second, 'PUT', `/api/v1/admin/users/${only.user.id}/roles`, { roles: ['clinician'] })).status).toBe(200);
      expect((await fresh.app.store.getUser(only.user.id))?.roles).toEqual(['clinician']);
    } finally {
      await fresh.close();
    }
  });
});

describe('the admin API: API keys', () => {
  it('creates a key (shown once) that works at once, and a revoked key is refused at once', async () => {
    const created = await call(admin, 'POST', '/api/v1/admin/keys', { name: 'EMIS integration' });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^ock_[A-Za-z0-9_-]{43}$/);
    expect(created.body.key).toMatchObject({ name: 'EMIS integration', usable: true, configured: false, lastUsedAt: null, revokedAt: null });
    const id = created.body.key.id as string;

    const used = await server.api('GET', '/api/v1/consultations', undefined, created.body.secret);
    expect(used.status).toBe(200);
    const listed = (await call(admin, 'GET', '/api/v1/admin/keys')).body.keys;
    expect(JSON.stringify(listed)).not.toContain(created.body.secret);
    expect(listed.find((k: { id: string }) => k.id === id).lastUsedAt).not.toBeNull();
    expect(listed.find((k: { configured: boolean }) => k.configured)).toMatchObject({ id: 'configured', usable: true });

    const revoked = await call(admin, 'POST', `/api/v1/admin/keys/${id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.key).toMatchObject({ usable: false });
    expect(revoked.body.key.revokedAt).not.toBeNull();
    expect((await server.api('GET', '/api/v1/consultations', undefined, created.body.secret)).status).toBe(401);
    expect((await call(admin, 'POST', `/api/v1/admin/keys/${id}/rotate`)).status).toBe(409);
  });

  it('rotates a key: the new one works at once, the old one until the grace and not after', async () => {
    const created = await call(admin, 'POST', '/api/v1/admin/keys', { name: 'Docman' });
    const rotated = await call(admin, 'POST', `/api/v1/admin/keys/${created.body.key.id}/rotate`);
    expect(rotated.status).toBe(201);
    expect(rotated.body.key.name).toBe('Docman');
    expect(Date.parse(rotated.body.oldKeyExpiresAt)).toBe(clock + GRACE_S * 1000);
    expect((await server.api('GET', '/api/v1/consultations', undefined, rotated.body.secret)).status).toBe(200);
    expect((await server.api('GET', '/api/v1/consultations', undefined, created.body.secret)).status).toBe(200);

    clock += (GRACE_S - 1) * 1000;
    expect((await server.api('GET', '/api/v1/consultations', undefined, created.body.secret)).status).toBe(200);
    clock += 2000;
    expect((await server.api('GET', '/api/v1/consultations', undefined, created.body.secret)).status).toBe(401);
    expect((await server.api('GET', '/api/v1/consultations', undefined, rotated.body.secret)).status).toBe(200);
  });

  it('answers another practice\'s key as unknown, and leaves the configured API_KEY to the operator', async () => {
    const theirs = await call(otherAdmin, 'POST', '/api/v1/admin/keys', { name: 'Theirs' });
    for (const action of ['rotate', 'revoke']) {
      const res = await call(admin, 'POST', `/api/v1/admin/keys/${theirs.body.key.id}/${action}`);
      expect([res.status, res.body.error.code]).toEqual([404, 'not_found']);
    }
    expect((await call(admin, 'GET', '/api/v1/admin/keys')).body.keys.map((k: { id: string }) => k.id)).not.toContain(theirs.body.key.id);
    expect((await server.api('GET', '/api/v1/consultations', undefined, theirs.body.secret)).status).toBe(200);
    const configured = await call(admin, 'POST', '/api/v1/admin/keys/configured/revoke');
    expect([configured.status, configured.body.error.code]).toEqual([409, 'invalid_state']);
    expect((await server.api('GET', '/api/v1/consultations')).status).toBe(200);
    expect((await call(otherAdmin, 'POST', '/api/v1/admin/keys/configured/revoke')).status).toBe(404);
    expect(DEFAULT_PRACTICE_ID).toBe('default');
  });
});

describe('POST /api/v1/consultations/:id/join', () => {
  it('gives the signed-in clinician a fresh link and their name in the call; others are refused', async () => {
    const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900321', clinicianName: 'Someone Else' });
    const id = created.body.id as string;
    const clinician = await signedIn(server, { roles: ['clinician'], displayName: 'Dr Joiner', now: clock });

    const joined = await call(clinician, 'POST', `/api/v1/consultations/${id}/join`);
    expect(joined.status).toBe(201);
    expect(joined.body.clinicianUrl).toMatch(/\/j\/[A-Za-z0-9_-]{22}$/);
    expect((await server.app.store.getConsultation(id))?.clinicianName).toBe('Dr Joiner');
    const participants = await server.app.store.listParticipants(id);
    expect(participants.find((p) => p.role === 'clinician')?.displayName).toBe('Dr Joiner');
    // What they do in the call is audited as theirs, not as "a clinician".
    const clinicianId = participants.find((p) => p.role === 'clinician')?.id ?? '';
    expect(await server.app.consultations.actorOf(clinicianId, 'clinician')).toBe(`user:${clinician.user.id}`);
    // The link from creation no longer works: only the joining clinician's does.
    const redeemed = await fetch(`${server.url}/api/v1/links/${joined.body.clinicianUrl.split('/j/')[1]}/redeem`, { method: 'POST' });
    expect(redeemed.status).toBe(200);
    const old = await fetch(`${server.url}/api/v1/links/${created.body.clinicianUrl.split('/j/')[1]}/redeem`, { method: 'POST' });
    expect(old.status).toBe(410);

    const reception = await signedIn(server, { roles: ['receptionist'], now: clock });
    expect((await call(reception, 'POST', `/api/v1/consultations/${id}/join`)).status).toBe(403);
    const key = await server.api('POST', `/api/v1/consultations/${id}/join`);
    expect([key.status, key.body.error.code]).toEqual([403, 'forbidden']);
    expect((await call(clinician, 'POST', `/api/v1/consultations/${id}/join`, undefined, { csrf: false })).status).toBe(403);
    const stranger = await signedIn(server, { roles: ['clinician'], practiceId: otherAdmin.user.practiceId, now: clock });
    const other = await call(stranger, 'POST', `/api/v1/consultations/${id}/join`);
    expect([other.status, other.body.error.code]).toEqual([404, 'consultation_not_found']);
  });
});
