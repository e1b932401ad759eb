/**
 * The admin API (/api/v1/admin/): a practice admin manages the practice's people (invite, roles,
 * disable, enable, a new set-up link) and its API keys (create, rotate, revoke), and reads the
 * practice's own audit lines. Signed-in admins only (`practice.manage`): an API key manages
 * nobody. Everything is scoped to the admin's practice: another practice's user or key is the
 * same 404 as one that does not exist. A practice always keeps an active admin.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { demand } from '../auth/permissions.js';
import { actorOf } from '../auth/principal.js';
import { AppError } from '../errors.js';
import type { ApiKeyRecord, TenancyStore, UserRecord } from '../store/store.js';
import { CONFIGURED_KEY_ID, isUsable } from '../tenancy/api-keys.js';
import type { Invitation, People } from '../tenancy/people.js';
import {
  type ApiKeyView, IssuedKeyReply, KeyBody, KeyIdParams, KeyList, KeyReply, InviteUserBody, PracticeEventsReply, RolesBody,
  SetupLinkReply, type StaffUser, UserIdParams, UserList, UserReply,
} from './admin-schemas.js';
import { type PrincipalDeps, requirePrincipal } from './principal.js';

export interface AdminDeps extends PrincipalDeps {
  people: People;
  store: Pick<TenancyStore, 'getUser' | 'listUsers' | 'getApiKey' | 'listPracticeEvents'>;
  now: () => number;
  /** Requests per minute per admin, like the practice API's. */
  perMinute: number;
}

/** How many of the practice's latest audit lines the page shows. */
const EVENTS_SHOWN = 200;

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

function userView(u: UserRecord): StaffUser {
  return { id: u.id, displayName: u.displayName, email: u.email, roles: u.roles, status: u.status, createdAt: iso(u.createdAt) };
}

function keyView(k: ApiKeyRecord, now: number): ApiKeyView {
  return {
    id: k.id, name: k.name, createdAt: iso(k.createdAt), lastUsedAt: isoOrNull(k.lastUsedAt), expiresAt: isoOrNull(k.expiresAt),
    revokedAt: isoOrNull(k.revokedAt), usable: isUsable(k, now), configured: k.id === CONFIGURED_KEY_ID,
  };
}

const setupView = (i: Invitation): SetupLinkReply => ({ user: userView(i.user), setupUrl: i.setupUrl, expiresAt: iso(i.expiresAt) });

/** Who keeps the practice administrable: active users with the admin role. */
const isWorkingAdmin = (u: UserRecord) => u.status === 'active' && u.roles.includes('admin');

export async function adminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { people, store, now } = deps;
  const limit = { rateLimit: { max: deps.perMinute, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `${actorOf(req.principal)}:admin` } };
  await app.register(requirePrincipal, deps);
  // Every route here: a signed-in admin (an API key holds no `practice.manage`).
  app.addHook('preHandler', async (req) => demand(req.principal, 'practice.manage'));

  const actor = (req: FastifyRequest) => actorOf(req.principal);

  /** The user of `:id` if the admin's practice holds them. */
  const ownUser = async (req: FastifyRequest<{ Params: UserIdParams }>): Promise<UserRecord> => {
    const u = await store.getUser(req.params.id);
    if (!u || u.practiceId !== req.principal.practiceId) throw new AppError('not_found', 'There is no such user.');
    return u;
  };

  /**
   * Refuses a change that would leave the practice without a working admin, and an admin's
   * disabling or demoting themself (another admin does that, so nobody locks themself out).
   */
  const keepAnAdmin = async (req: FastifyRequest, target: UserRecord, after: { status: UserRecord['status']; roles: UserRecord['roles'] }) => {
    if (isWorkingAdmin({ ...target, ...after }) || !isWorkingAdmin(target)) return;
    const others = (await store.listUsers(target.practiceId)).filter((u) => u.id !== target.id && isWorkingAdmin(u));
    if (others.length === 0) {
      throw new AppError('invalid_state', 'This is the practice\'s only admin: make someone else an admin first, so the practice keeps one.');
    }
    if (req.principal.kind === 'user' && req.principal.userId === target.id) {
      throw new AppError('invalid_state', after.status === 'disabled'
        ? 'You cannot disable your own account: ask another admin of the practice.'
        : 'You cannot remove your own admin role: ask another admin of the practice.');
    }
  };

  const reread = async (id: string) => userView((await store.getUser(id))!);

  // ---- people ----

  app.get('/users', { schema: { response: { 200: UserList } }, config: limit }, async (req): Promise<UserList> => ({
    users: (await store.listUsers(req.principal.practiceId)).map(userView),
  }));

  app.post<{ Body: InviteUserBody }>('/users', { schema: { body: InviteUserBody, response: { 201: SetupLinkReply } }, config: limit },
    async (req, reply) => reply.status(201).send(setupView(await people.invite(req.principal.practiceId, req.body, actor(req)))));

  app.put<{ Params: UserIdParams; Body: RolesBody }>('/users/:id/roles',
    { schema: { params: UserIdParams, body: RolesBody, response: { 200: UserReply } }, config: limit },
    async (req): Promise<UserReply> => {
      const u = await ownUser(req);
      await keepAnAdmin(req, u, { status: u.status, roles: req.body.roles });
      await people.setRoles(u.id, req.body.roles, actor(req));
      return { user: await reread(u.id) };
    });

  app.post<{ Params: UserIdParams }>('/users/:id/disable', { schema: { params: UserIdParams, response: { 200: UserReply } }, config: limit },
    async (req): Promise<UserReply> => {
      const u = await ownUser(req);
      await keepAnAdmin(req, u, { status: 'disabled', roles: u.roles });
      await people.disable(u.id, actor(req));
      return { user: await reread(u.id) };
    });

  app.post<{ Params: UserIdParams }>('/users/:id/enable', { schema: { params: UserIdParams, response: { 200: UserReply } }, config: limit },
    async (req): Promise<UserReply> => {
      const u = await ownUser(req);
      // Enabling an account that is not disabled changes nothing (and logs nothing).
      if (u.status === 'disabled') await people.enable(u.id, actor(req));
      return { user: await reread(u.id) };
    });

  app.post<{ Params: UserIdParams }>('/users/:id/setup-link', { schema: { params: UserIdParams, response: { 201: SetupLinkReply } }, config: limit },
    async (req, reply) => {
      const u = await ownUser(req);
      if (u.status === 'disabled') throw new AppError('invalid_state', 'This account is disabled: enable it first.');
      return reply.status(201).send(setupView(await people.reissueSetupLink(u.id, actor(req))));
    });

  // ---- API keys ----

  app.get('/keys', { schema: { response: { 200: KeyList } }, config: limit }, async (req): Promise<KeyList> => {
    const at = now();
    return { keys: (await deps.keys.list(req.principal.practiceId)).map((k) => keyView(k, at)) };
  });

  app.post<{ Body: KeyBody }>('/keys', { schema: { body: KeyBody, response: { 201: IssuedKeyReply } }, config: limit }, async (req, reply) => {
    const issued = await deps.keys.create(req.principal.practiceId, req.body.name, actor(req));
    const body: IssuedKeyReply = { key: keyView(issued.record, now()), secret: issued.key };
    return reply.status(201).send(body);
  });

  app.post<{ Params: KeyIdParams }>('/keys/:id/rotate', { schema: { params: KeyIdParams, response: { 201: IssuedKeyReply } }, config: limit },
    async (req, reply) => {
      const issued = await deps.keys.rotate(req.principal.practiceId, req.params.id, actor(req));
      const body: IssuedKeyReply = { key: keyView(issued.record, now()), secret: issued.key, oldKeyExpiresAt: iso(issued.oldKeyExpiresAt) };
      return reply.status(201).send(body);
    });

  app.post<{ Params: KeyIdParams }>('/keys/:id/revoke', { schema: { params: KeyIdParams, response: { 200: KeyReply } }, config: limit },
    async (req): Promise<KeyReply> => {
      await deps.keys.revoke(req.principal.practiceId, req.params.id, actor(req));
      return { key: keyView((await store.getApiKey(req.params.id))!, now()) };
    });

  // ---- the practice's audit lines ----

  app.get('/events', { schema: { response: { 200: PracticeEventsReply } }, config: limit }, async (req): Promise<PracticeEventsReply> => ({
    events: (await store.listPracticeEvents(req.principal.practiceId)).slice(-EVENTS_SHOWN).reverse()
      .map((e) => ({ seq: e.seq, at: iso(e.at), actor: e.actor, type: e.type, detail: e.detail })),
  }));
}
