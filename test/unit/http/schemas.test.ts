/** Every route under server/http/ declares what it answers (design.md 7.5), so the console can import the shapes. */
import Fastify, { type RouteOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { adminRoutes } from '../../../server/http/admin.js';
import { apiRoutes } from '../../../server/http/api.js';
import { healthRoutes } from '../../../server/http/health.js';
import { patientRequestRoutes } from '../../../server/http/patient-requests.js';
import { linkRoutes } from '../../../server/http/links.js';
import { meRoutes } from '../../../server/http/me.js';
import { metricsRoutes } from '../../../server/http/metrics.js';
import { pageRoutes } from '../../../server/http/pages.js';
import { reportRoutes } from '../../../server/http/reports.js';
import { telemetryRoutes } from '../../../server/http/telemetry.js';
import { createMetrics } from '../../../server/metrics.js';

describe('HTTP routes', () => {
  it('each have a response schema for their success answer', async () => {
    const app = Fastify();
    const routes: RouteOptions[] = [];
    app.addHook('onRoute', (r) => {
      if (r.method !== 'HEAD') routes.push(r);
    });
    // Registering touches no dependency: they are used when a request comes.
    const unused = {} as never;
    const principals = { keys: unused, staff: unused, practices: unused };
    await app.register(apiRoutes, {
      prefix: '/api/v1', consultations: unused, roomViews: unused, store: unused, ...principals, perMinute: 1, identity: unused, callbacks: unused,
    });
    await app.register(linkRoutes, { consultations: unused, tokens: unused, redeemPerMinute: 1, identity: unused });
    await app.register(patientRequestRoutes, { identity: unused, callbacks: unused });
    await app.register(healthRoutes, { ready: () => ({ ok: true, checks: {} }) });
    const metrics = createMetrics({ mediaSessions: () => 0 });
    await app.register(metricsRoutes, { metrics, token: 't', allow: [] });
    await app.register(telemetryRoutes, { metrics, tokens: unused });
    await app.register(pageRoutes);
    await app.register(reportRoutes, { prefix: '/api/v1/reports', audit: unused, ...principals, perMinute: 1 });
    await app.register(meRoutes, { prefix: '/api/v1', store: unused, ...principals, perMinute: 1 });
    await app.register(adminRoutes, { prefix: '/api/v1/admin', people: unused, store: unused, now: Date.now, ...principals, perMinute: 1 });
    await app.ready();

    expect(routes.length).toBeGreaterThanOrEqual(15);
    const without = routes.filter((r) => !r.schema?.response).map((r) => `${String(r.method)} ${r.url}`);
    expect(without).toEqual([]);
    await app.close();
  });
});
