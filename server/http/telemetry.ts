/** Browsers' reports: from admission to the first remote video frame, and how their media flows. */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics/registry.js';
import { observeFirstFrame } from '../metrics/observers.js';
import { FirstFrameBody, NoContent } from './schemas.js';

export interface TelemetryDeps {
  metrics: Metrics;
  /** First-frame reports accepted per minute from one address. */
  reportsPerMinute?: number;
}

export async function telemetryRoutes(app: FastifyInstance, deps: TelemetryDeps): Promise<void> {
  app.post<{ Body: FirstFrameBody }>('/api/v1/telemetry/first-frame', {
    schema: { body: FirstFrameBody, response: { 204: NoContent } },
    config: { rateLimit: { max: deps.reportsPerMinute ?? 30, timeWindow: 60_000 } },
  }, async (req, reply) => {
    observeFirstFrame(deps.metrics, req.body);
    return reply.status(204).send();
  });
}
