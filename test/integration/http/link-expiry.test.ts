/**
 * A link past its expiry says so (410 link_expired), even though its consultation expired with
 * it; the link of a consultation that was ended keeps saying that it ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ linkTtl: 1 });
});
afterAll(async () => {
  await server?.close();
});

const redeem = async (code: string) => {
  const res = await fetch(`${server.url}/api/v1/links/${code}/redeem`, { method: 'POST' });
  return { status: res.status, body: await res.json() as any };
};

/** Creates a consultation and resolves its links once its lifecycle timer has expired it. */
async function expiredConsultation(): Promise<{ patientCode: string; clinicianCode: string }> {
  let created!: string;
  const expired = new Promise<void>((resolve) => {
    const seen = ({ id, to }: { id: string; to: string }) => {
      if (id !== created || to !== 'expired') return;
      server.app.consultations.off('statusChanged', seen);
      resolve();
    };
    server.app.consultations.on('statusChanged', seen);
  });
  const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123' });
  created = res.body.id;
  const sms = (await server.outbox()).find((m) => m.consultationId === created);
  await expired;
  expect((await server.api('GET', `/api/v1/consultations/${created}`)).body).toMatchObject({ status: 'expired', endedReason: 'link_expired' });
  return { patientCode: codeOf(linkIn(sms!.body)), clinicianCode: codeOf(res.body.clinicianUrl) };
}

describe('a link past its expiry', () => {
  it('answers 410 link_expired, not consultation_closed, once its consultation expired with it', async () => {
    const { patientCode, clinicianCode } = await expiredConsultation();
    for (const code of [patientCode, clinicianCode]) {
      const r = await redeem(code);
      expect(r.status).toBe(410);
      expect(r.body).toEqual({ error: { code: 'link_expired', message: expect.stringMatching(/expired.*new one/) } });
    }
  });

  it('keeps consultation_closed for a consultation that was ended before its links expired', async () => {
    const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123' });
    expect((await server.api('POST', `/api/v1/consultations/${res.body.id}/end`)).status).toBe(200);
    const r = await redeem(codeOf(res.body.clinicianUrl));
    expect(r.status).toBe(410);
    expect(r.body.error.code).toBe('consultation_closed');
  });
});
