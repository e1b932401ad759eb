/** Reports of one practice, for its API key or its admins: GET /api/v1/reports/s97?week=2026-W48&format=json|csv. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { s97Output, s97Report } from '../reports/s97.js';
import { demand } from '../auth/permissions.js';
import { actorOf } from '../auth/principal.js';
import type { AuditStore, PracticeStore } from '../store/store.js';
import { type PrincipalDeps, requirePrincipal } from './principal.js';
import { S97Query, S97Reply } from './schemas.js';

export interface ReportDeps extends PrincipalDeps {
  audit: Pick<AuditStore, 'eventsOfCreatedBetween'>;
  practices: Pick<PracticeStore, 'getPractice'>;
  /** Requests per minute per API key, like the practice API's. */
  perMinute: number;
}

export async function reportRoutes(app: FastifyInstance, deps: ReportDeps): Promise<void> {
  const limit = { rateLimit: { max: deps.perMinute, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `${actorOf(req.principal)}:reports` } };
  await app.register(requirePrincipal, deps);

  app.get<{ Querystring: S97Query }>('/s97', { schema: { querystring: S97Query, response: { 200: S97Reply } }, config: limit },
    async (req, reply) => {
      demand(req.principal, 'report.read');
      const practice = await deps.practices.getPractice(req.principal.practiceId);
      const out = s97Output(await s97Report(deps.audit, req.query.week, practice ? [practice] : []), req.query.format ?? 'json');
      return reply.type(out.type).send(out.text);
    });
}
