/**
 * Who is asking, for every request of the scope it is registered in: a practice API key
 * (`Authorization: Bearer <key>`), or a signed-in member of staff (their session cookie, with the
 * session's CSRF token on anything but GET/HEAD). Nobody else gets further. A suspended
 * practice's keys and people are told so (403 `practice_suspended`).
 */
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../errors.js';
import type { StaffContext, StaffSessions } from '../staff/sessions.js';
import type { PracticeStore } from '../store/store.js';
import type { ApiKeys } from '../tenancy/api-keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the principal plugin on every request it guards. */
    principal: Principal;
    /** The staff session, user and practice behind a `user` principal (null for an API key). */
    staffContext: StaffContext | null;
  }
}

export interface PrincipalDeps {
  keys: ApiKeys;
  staff: StaffSessions;
  practices: Pick<PracticeStore, 'getPractice'>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const suspended = () => new AppError('practice_suspended', 'This practice\'s use of the service is suspended. Contact the service\'s operator.');

async function authenticate(req: FastifyRequest, deps: PrincipalDeps): Promise<Principal> {
  req.staffContext = null;
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
    const checked = token ? await deps.keys.check(token) : undefined;
    if (!checked?.ok) {
      throw new AppError('unauthorized', checked?.reason === 'revoked' || checked?.reason === 'expired'
        ? 'This API key has been revoked or replaced. Ask the practice\'s admin for the current one.'
        : 'Send a practice API key as "Authorization: Bearer <key>".');
    }
    const practice = await deps.practices.getPractice(checked.key.practiceId);
    if (practice?.status !== 'active') throw suspended();
    return { kind: 'key', practiceId: checked.key.practiceId, keyId: checked.key.id };
  }
  const ctx = await deps.staff.resolve(req);
  if (!ctx) throw new AppError('unauthorized', 'Sign in to continue, or send a practice API key as "Authorization: Bearer <key>".');
  if (!SAFE_METHODS.has(req.method)) deps.staff.checkCsrf(req, ctx.session);
  req.staffContext = ctx;
  return { kind: 'user', practiceId: ctx.practice.id, userId: ctx.user.id, roles: ctx.user.roles, displayName: ctx.user.displayName };
}

/** Refuses, before anything else runs, every request of its scope that is neither a key nor a staff session. */
export const requirePrincipal = fp<PrincipalDeps>(async (app, deps) => {
  if (!app.hasRequestDecorator('principal')) app.decorateRequest('principal', null as never);
  if (!app.hasRequestDecorator('staffContext')) app.decorateRequest('staffContext', null);
  app.addHook('onRequest', async (req) => {
    req.principal = await authenticate(req, deps);
  });
});
