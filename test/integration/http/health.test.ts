import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startServer } from '../../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

describe('health and metrics', () => {
  it('answers /healthz while alive, without an API key', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz ready once the media workers and the store are up', async () => {
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready' });
  });

  it('serves Prometheus metrics', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('openconsult_');
    expect(text).toMatch(/^# TYPE openconsult_\S+ (counter|gauge|histogram|summary)$/m);
  });

  it('counts consultation status changes', async () => {
    const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700900123' });
    await server.api('POST', `/api/v1/consultations/${created.body.id}/end`);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^openconsult_consultation_transitions_total\{to="ended"\} [1-9]\d*$/m);
  });
});
