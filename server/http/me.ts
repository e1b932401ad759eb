/**
 * `GET /api/v1/me`: who is asking (a signed-in person, or an API key: `user: null`), their
 * practice, the CSRF token their page sends back, and their rights, so a page shows only what
 * they may do. The rights are only a guide for the page: every route checks its own.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { permissions, can } from '../auth/permissions.js';
import { actorOf } from '../auth/principal.js';
import { AppError } from '../errors.js';
import type { PracticeStore } from '../store/store.js';
import { MeReply } from './admin-schemas.js';
import { type PrincipalDeps, requirePrincipal } from './principal.js';

export interface MeDeps extends PrincipalDeps {
  store: Pick<PracticeStore, 'getPractice'>;
  perMinute: number;
}

export async function meRoutes(app: FastifyInstance, deps: MeDeps): Promise<void> {
  const limit = { rateLimit: { max: deps.perMinute, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `${actorOf(req.principal)}:me` } };
  await app.register(requirePrincipal, deps);

  app.get('/me', { schema: { response: { 200: MeReply } }, config: limit }, async (req): Promise<MeReply> => {
    const p = req.principal;
    // A person's session, user and practice were read by the principal plugin; a key's practice is read here.
    const staff = req.staffContext;
    const practice = staff?.practice ?? await deps.store.getPractice(p.practiceId);
    if (!practice) throw new AppError('unauthorized', 'Your practice is not known to this service.');
    const user = staff?.user;
    return {
      user: user ? { id: user.id, displayName: user.displayName, email: user.email, roles: user.roles } : null,
      practice: { odsCode: practice.odsCode, name: practice.name },
      csrfToken: staff?.session.csrfToken ?? null,
      rights: permissions.filter((right) => can(p, right)),
    };
  });
}
