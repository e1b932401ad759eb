/** Liveness and readiness. (Prometheus metrics: server/metrics.ts.) */
import type { FastifyInstance } from 'fastify';

export interface HealthDeps {
  ready: () => { ok: boolean; checks: Record<string, boolean> };
}

export async function healthRoutes(app: FastifyInstance, deps: HealthDeps): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const r = deps.ready();
    return reply.status(r.ok ? 200 : 503).send({ status: r.ok ? 'ready' : 'not_ready', checks: r.checks });
  });
}
