/** Liveness and readiness. (Prometheus metrics: metrics.ts.) */
import type { FastifyInstance } from 'fastify';
import { AliveReply, ReadyReply } from './schemas.js';

export interface HealthDeps {
  ready: () => { ok: boolean; checks: Record<string, boolean> };
}

export async function healthRoutes(app: FastifyInstance, deps: HealthDeps): Promise<void> {
  app.get('/healthz', { schema: { response: { 200: AliveReply } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { response: { 200: ReadyReply, 503: ReadyReply } } }, async (_req, reply) => {
    const r = deps.ready();
    const body: ReadyReply = { status: r.ok ? 'ready' : 'not_ready', checks: r.checks };
    return reply.status(r.ok ? 200 : 503).send(body);
  });
}
