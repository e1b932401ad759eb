import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_KEY, type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const CODE_RE = /^[A-Za-z0-9_-]{22}$/;

function expectErrorShape(body: unknown, code: string): string {
  expect(body).toEqual({ error: { code, message: expect.any(String) } });
  const message = (body as { error: { message: string } }).error.message;
  expect(message.length).toBeGreaterThan(0);
  return message;
}

async function create(body: unknown = { patientPhone: '07700 900123' }) {
  const res = await server.api('POST', '/api/v1/consultations', body);
  expect(res.status).toBe(201);
  return res.body as { id: string; status: string; clinicianUrl: string; expiresAt: string };
}

async function redeem(code: string) {
  const res = await fetch(`${server.url}/api/v1/links/${code}/redeem`, { method: 'POST' });
  return { status: res.status, body: await res.json() as any };
}

describe('API authentication', () => {
  it('refuses a request without an Authorization header', async () => {
    const res = await fetch(`${server.url}/api/v1/consultations`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ patientPhone: '07700900123' }),
    });
    expect(res.status).toBe(401);
    expectErrorShape(await res.json(), 'unauthorized');
  });

  it('refuses a wrong key, a key of another length and a non-Bearer scheme', async () => {
    for (const key of ['wrong-api-key-0123456789abcdef', 'x', `${TEST_API_KEY}x`]) {
      const res = await server.api('GET', '/api/v1/consultations/abc', undefined, key);
      expect(res.status).toBe(401);
      expectErrorShape(res.body, 'unauthorized');
    }
    const basic = await fetch(`${server.url}/api/v1/consultations/abc`, { headers: { authorization: `Basic ${TEST_API_KEY}` } });
    expect(basic.status).toBe(401);
  });

  it('sends no SMS for a refused request', async () => {
    const before = (await server.outbox()).length;
    const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700900999' }, 'wrong-api-key-0123456789abcdef');
    expect(res.status).toBe(401);
    expect(await server.outbox()).toHaveLength(before);
  });

  it('accepts the right key', async () => {
    const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123' });
    expect(res.status).toBe(201);
  });
});

describe('API validation', () => {
  it('refuses a body without patientPhone', async () => {
    const res = await server.api('POST', '/api/v1/consultations', { patientName: 'Pat' });
    expect(res.status).toBe(400);
    expect(expectErrorShape(res.body, 'validation_failed')).toContain('patientPhone');
  });

  it('refuses an unknown extra field, naming it', async () => {
    const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700900123', nhsNumber: '9434765919' });
    expect(res.status).toBe(400);
    expect(expectErrorShape(res.body, 'validation_failed')).toContain('nhsNumber');
  });

  it('refuses a phone number sent as a JSON number', async () => {
    const res = await server.api('POST', '/api/v1/consultations', { patientPhone: 7700900123 });
    expect(res.status).toBe(400);
    expectErrorShape(res.body, 'validation_failed');
  });

  it.each([
    ['a landline', '020 7946 0000'],
    ['a foreign number', '+33 6 12 34 56 78'],
    ['a short number', '07700 9001'],
  ])('refuses %s, telling the receptionist a UK mobile is needed', async (_what, phone) => {
    const res = await server.api('POST', '/api/v1/consultations', { patientPhone: phone });
    expect(res.status).toBe(400);
    const message = expectErrorShape(res.body, 'validation_failed');
    expect(message).toContain('UK mobile');
    expect(message).not.toMatch(/regex|pattern|must match|\^/i);
  });

  it('refuses malformed JSON with the error shape', async () => {
    const res = await fetch(`${server.url}/api/v1/consultations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: '{"patientPhone": "07700900123",',
    });
    expect(res.status).toBe(400);
    expectErrorShape(await res.json(), 'validation_failed');
  });

  it('refuses an oversized body with the error shape', async () => {
    const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700900123', patientName: 'x'.repeat(64 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  });

  it('refuses an over-long name', async () => {
    const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700900123', patientName: 'x'.repeat(101) });
    expect(res.status).toBe(400);
    expect(expectErrorShape(res.body, 'validation_failed')).toContain('patientName');
  });

  it('sends no SMS for a refused request', async () => {
    const before = (await server.outbox()).length;
    await server.api('POST', '/api/v1/consultations', { patientPhone: '020 7946 0000' });
    expect(await server.outbox()).toHaveLength(before);
  });

  it('answers 404 consultation_not_found for an unknown id, on every route', async () => {
    for (const [method, route] of [
      ['GET', '/api/v1/consultations/doesNotExist123'],
      ['POST', '/api/v1/consultations/doesNotExist123/end'],
      ['GET', '/api/v1/consultations/doesNotExist123/events'],
    ] as const) {
      const res = await server.api(method, route);
      expect(res.status).toBe(404);
      expectErrorShape(res.body, 'consultation_not_found');
    }
  });

  it('refuses a malformed consultation id', async () => {
    const res = await server.api('GET', '/api/v1/consultations/bad%20id');
    expect(res.status).toBe(400);
    expectErrorShape(res.body, 'validation_failed');
  });

  it('answers an unknown route with the error shape', async () => {
    const res = await server.api('GET', '/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expectErrorShape(res.body, 'not_found');
  });
});

describe('creating a consultation', () => {
  it('answers 201 with the clinician link and texts a different link to the patient', async () => {
    const before = await server.outbox();
    const t0 = Date.now();
    const created = await create({ patientPhone: '07700 900123', patientName: 'Pat Example', clinicianName: 'Dr Jones' });
    expect(Object.keys(created).sort()).toEqual(expect.arrayContaining(['clinicianUrl', 'expiresAt', 'id', 'status']));
    expect(created.status).toBe('created');
    expect(created.id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(created.clinicianUrl.startsWith(`${server.url}/j/`)).toBe(true);
    const clinicianCode = codeOf(created.clinicianUrl);
    expect(clinicianCode).toMatch(CODE_RE);
    const expiresAt = Date.parse(created.expiresAt);
    expect(new Date(expiresAt).toISOString()).toBe(created.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(t0 + 24 * 3600 * 1000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 24 * 3600 * 1000 + 1000);

    const after = await server.outbox();
    expect(after).toHaveLength(before.length + 1);
    const sms = after.filter((m) => m.consultationId === created.id);
    expect(sms).toHaveLength(1);
    const [message] = sms;
    expect(message?.to).toBe('+447700900123');
    expect(Number.isNaN(Date.parse(message?.sentAt ?? ''))).toBe(false);
    const patientLink = linkIn(message?.body ?? '');
    expect(patientLink.startsWith(`${server.url}/j/`)).toBe(true);
    expect(codeOf(patientLink)).toMatch(CODE_RE);
    expect(codeOf(patientLink)).not.toBe(clinicianCode);
    expect(message?.body).not.toContain('Pat Example');
  });

  it('shows a new consultation as created', async () => {
    const created = await create();
    const res = await server.api('GET', `/api/v1/consultations/${created.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: created.id, status: 'created', expiresAt: created.expiresAt });
    expect(JSON.stringify(res.body)).not.toContain('+447700900123');
  });

  it('gives each consultation its own id and links', async () => {
    const [a, b] = await Promise.all([create(), create()]);
    expect(a.id).not.toBe(b.id);
    expect(a.clinicianUrl).not.toBe(b.clinicianUrl);
  });
});

describe('ending a consultation', () => {
  it('ends it, stays ended when ended again, and closes its unused links', async () => {
    const created = await create({ patientPhone: '+44 7700 900123', patientName: 'Pat Example', clinicianName: 'Dr Jones' });
    const end = await server.api('POST', `/api/v1/consultations/${created.id}/end`);
    expect(end.status).toBe(200);
    expect(end.body).toMatchObject({ id: created.id, status: 'ended' });

    const got = await server.api('GET', `/api/v1/consultations/${created.id}`);
    expect(got.body).toMatchObject({ status: 'ended', endedReason: 'ended_by_api' });

    const again = await server.api('POST', `/api/v1/consultations/${created.id}/end`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: created.id, status: 'ended' });

    const r = await redeem(codeOf(created.clinicianUrl));
    expect(r.body).toEqual({ error: { code: 'consultation_closed', message: expect.stringContaining('ended') } });
  });

  it('answers 410 Gone for the link of an ended consultation, like a used or expired link', async () => {
    const created = await create();
    await server.api('POST', `/api/v1/consultations/${created.id}/end`);
    const r = await redeem(codeOf(created.clinicianUrl));
    expect(r.body.error?.code).toBe('consultation_closed');
    expect(r.status).toBe(410);
  });

  it('keeps telling the holder of an ended consultation\'s link that it has ended, not that the link was used', async () => {
    const created = await create();
    await server.api('POST', `/api/v1/consultations/${created.id}/end`);
    const code = codeOf(created.clinicianUrl);
    expect((await redeem(code)).body.error?.code).toBe('consultation_closed');
    expect((await redeem(code)).body.error?.code).toBe('consultation_closed');
  });

  it('records the audit trail without the phone number or the names', async () => {
    const created = await create({ patientPhone: '07700 900456', patientName: 'Priya Patient', clinicianName: 'Dr Clinician' });
    await server.api('POST', `/api/v1/consultations/${created.id}/end`);
    const res = await server.api('GET', `/api/v1/consultations/${created.id}/events`);
    expect(res.status).toBe(200);
    const events = res.body.events as { type: string; actor: string; at: string; detail: unknown }[];
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['created', 'sms_sent', 'status']));
    expect(events.map((e) => e.type).indexOf('created')).toBe(0);
    expect(events.find((e) => e.type === 'status')).toMatchObject({ actor: 'key:configured', detail: { from: 'created', to: 'ended', reason: 'ended_by_api' } });
    for (const e of events) expect(Number.isNaN(Date.parse(e.at))).toBe(false);
    const json = JSON.stringify(res.body);
    for (const secret of ['07700 900456', '+447700900456', '7700900456', '900456', 'Priya', 'Patient', 'Clinician']) {
      expect(json).not.toContain(secret);
    }
  });
});
