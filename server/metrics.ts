/** Prometheus metrics (prom-client), one registry per app so tests can run several apps. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(read: { mediaSessions: () => number }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'openconsult_process_' });
  return {
    registry,
    consultationTransitions: new Counter({
      name: 'openconsult_consultation_transitions_total', help: 'Consultation status changes, by new status.',
      labelNames: ['to'] as const, registers: [registry],
    }),
    linkRedemptions: new Counter({
      name: 'openconsult_link_redemptions_total', help: 'Link redemption attempts, by result.',
      labelNames: ['result'] as const, registers: [registry],
    }),
    workerDeaths: new Counter({
      name: 'openconsult_media_worker_deaths_total', help: 'mediasoup workers that died and were replaced.', registers: [registry],
    }),
    liveMediaSessions: new Gauge({
      name: 'openconsult_media_sessions', help: 'Consultations with a live media router.', registers: [registry],
      collect() {
        this.set(read.mediaSessions());
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
