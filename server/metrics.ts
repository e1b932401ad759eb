/**
 * Prometheus metrics, in three parts: metrics/registry.ts (every metric, one registry per app),
 * metrics/observers.ts (what feeds them besides scrapes), metrics/proc.ts (/proc readings). Their
 * routes, GET /metrics and the browsers' reports, are http/metrics.ts and http/telemetry.ts.
 */
export { type Metrics, type MetricsReaders, type RegionReaders, createMetrics } from './metrics/registry.js';
export {
  type IceFailureReason, type ObservedCluster, type ObservedTransport, countingMoved, countingSms, observeFirstFrame, observeIceFailure, observeMediaPath, watchConsultations,
  watchMediasoup, watchRegion, watchTransport,
} from './metrics/observers.js';
export { procCpuSeconds, procRssBytes } from './metrics/proc.js';
