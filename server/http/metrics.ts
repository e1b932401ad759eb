/** GET /metrics (Prometheus), behind a bearer token when one is configured. */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics/registry.js';
import { requireBearer } from './bearer.js';
import { MetricsText } from './schemas.js';

export interface MetricsRoutesDeps {
  metrics: Metrics;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
}

export async function metricsRoutes(app: FastifyInstance, deps: MetricsRoutesDeps): Promise<void> {
  const { metrics, token } = deps;
  if (token) await app.register(requireBearer, { secret: token, message: 'Send the metrics token as "Authorization: Bearer <token>".' });
  app.get('/metrics', { schema: { response: { 200: MetricsText } } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    reply.header('cache-control', 'no-store');
    return metrics.registry.metrics();
  });
}
