/** Every page and API answer carries the security headers; HSTS only behind TLS. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startServer } from '../../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const routes = ['/', '/console', '/admin', '/j/AAAAAAAAAAAAAAAAAAAAAA', '/healthz', '/api/v1/consultations', '/no/such/page', '/assets/join.js'];

describe('security headers', () => {
  it.each(routes)('are on %s', async (route) => {
    const res = await fetch(`${server.url}${route}`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('strict-transport-security')).toBeNull(); // plain HTTP here
  });

  it('adds HSTS when a trusted local proxy says the browser came over TLS', async () => {
    const res = await fetch(`${server.url}/`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d{8}/);
  });
});
