/**
 * GET /metrics (Prometheus). The figures tell an outsider how busy the practice is and when:
 * with METRICS_TOKEN set, every request needs it; without, only the addresses in METRICS_ALLOW
 * (loopback by default, judged after TRUST_PROXY) may read them.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';
import type { Metrics } from '../metrics/registry.js';
import { addressMatcher } from './addresses.js';
import { requireBearer } from './bearer.js';
import { MetricsText } from './schemas.js';

export interface MetricsRoutesDeps {
  metrics: Metrics;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Addresses and CIDRs that may read without a token while none is set. */
  allow: readonly string[];
}

export async function metricsRoutes(app: FastifyInstance, deps: MetricsRoutesDeps): Promise<void> {
  const { metrics, token } = deps;
  if (token) {
    await app.register(requireBearer, { secret: token, message: 'Send the metrics token as "Authorization: Bearer <token>".' });
  } else {
    const allowed = addressMatcher(deps.allow);
    app.addHook('onRequest', async (req) => {
      if (!allowed(req.ip)) throw new AppError('forbidden', 'Metrics are served to the addresses in METRICS_ALLOW, or with METRICS_TOKEN.');
    });
  }
  app.get('/metrics', { schema: { response: { 200: MetricsText } } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    reply.header('cache-control', 'no-store');
    return metrics.registry.metrics();
  });
}
