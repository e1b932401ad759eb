/** Reports for operators, behind the practice API key: GET /api/v1/reports/s97?week=2026-W48&format=json|csv. */
import type { FastifyInstance } from 'fastify';
import { s97Output, s97Report } from '../reports/s97.js';
import type { AuditStore } from '../store/store.js';
import { requireBearer } from './bearer.js';
import { S97Query, S97Reply } from './schemas.js';

export interface ReportDeps {
  audit: Pick<AuditStore, 'eventsOfCreatedBetween'>;
  /** PRACTICE_ODS_CODE. */
  odsCode: string | undefined;
  apiKey: string;
  /** Requests per minute per API key, like the practice API's. */
  perMinute: number;
}

export async function reportRoutes(app: FastifyInstance, deps: ReportDeps): Promise<void> {
  const limit = { rateLimit: { max: deps.perMinute, timeWindow: 60_000, keyGenerator: () => 'practice-api-key-reports' } };
  await app.register(requireBearer, { secret: deps.apiKey, message: 'Send the practice API key as "Authorization: Bearer <key>".' });

  app.get<{ Querystring: S97Query }>('/s97', { schema: { querystring: S97Query, response: { 200: S97Reply } }, config: limit },
    async (req, reply) => {
      const out = s97Output(await s97Report(deps.audit, req.query.week, deps.odsCode), req.query.format ?? 'json');
      return reply.type(out.type).send(out.text);
    });
}
