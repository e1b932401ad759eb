/** A fresh clinician link for a console that does not hold the one from creation. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, codeOf, startServer } from '../../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const redeem = (code: string) => fetch(`${server.url}/api/v1/links/${code}/redeem`, { method: 'POST' });

describe('POST /api/v1/consultations/:id/clinician-link', () => {
  it('issues a clinician link that works once and retires the earlier one', async () => {
    const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700900123' });
    const fresh = await server.api('POST', `/api/v1/consultations/${created.body.id}/clinician-link`);
    expect(fresh.status).toBe(201);
    expect(fresh.body.clinicianUrl).toMatch(new RegExp(`^${server.url}/j/[A-Za-z0-9_-]{22}$`));
    expect((await redeem(codeOf(created.body.clinicianUrl))).status).toBe(410);
    const res = await redeem(codeOf(fresh.body.clinicianUrl));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ role: 'clinician', consultationId: created.body.id });
  });

  it('refuses for an ended consultation and without the API key', async () => {
    const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700900123' });
    expect((await server.api('POST', `/api/v1/consultations/${created.body.id}/clinician-link`, undefined, 'wrong')).status).toBe(401);
    await server.api('POST', `/api/v1/consultations/${created.body.id}/end`);
    const res = await server.api('POST', `/api/v1/consultations/${created.body.id}/clinician-link`);
    expect(res.status).toBe(410);
    expect(res.body.error.code).toBe('consultation_closed');
  });
});
