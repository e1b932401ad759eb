/**
 * Link redemption (refusals per address) and the practice API (per key) answer 429 with
 * Retry-After past their limit. Valid redemptions never count: many phones share one address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, codeOf, startServer } from '../../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ rateLimitRedeem: 3, rateLimitApi: 4 });
});
afterAll(async () => {
  await server?.close();
});

describe('rate limits', () => {
  it('refuses a fourth redemption a minute from one address with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${server.url}/api/v1/links/AAAAAAAAAAAAAAAAAAAAA${i}/redeem`, { method: 'POST' });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([404, 404, 404, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await last!.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringMatching(/Try again in/) } });
  });

  it('lets more valid first redemptions than the limit through from one address, but not as many bad codes', async () => {
    // Its own server: the API limit of the one above would stop us creating the consultations.
    const own = await startServer({ rateLimitRedeem: 3 });
    try {
      const codes: string[] = [];
      for (let i = 0; i < 5; i++) {
        const created = await own.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123' });
        expect(created.status).toBe(201);
        codes.push(codeOf(created.body.clinicianUrl));
      }
      const redeem = (code: string) => fetch(`${own.url}/api/v1/links/${code}/redeem`, { method: 'POST' });
      for (const code of codes) expect((await redeem(code)).status).toBe(200);

      const bad: Response[] = [];
      for (let i = 0; i < 5; i++) bad.push(await redeem(i % 2 ? `BBBBBBBBBBBBBBBBBBBBB${i}` : 'not-a-code'));
      expect(bad.map((r) => r.status)).toEqual([404, 404, 404, 429, 429]);
      const refused = bad[4] as Response;
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await refused.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringMatching(/Try again in/) } });
      // Past the limit nothing is looked up: a valid code gets no answer that would tell it apart.
      expect((await redeem(codes[0] as string)).status).toBe(429);
      expect(await (await fetch(`${own.url}/j/${codes[0]}`)).text()).not.toContain('openconsult-link');
    } finally {
      await own.close();
    }
  });

  it('counts a page opened for a code that would not redeem as a refusal', async () => {
    const own = await startServer({ rateLimitRedeem: 2 });
    try {
      for (let i = 0; i < 2; i++) expect((await fetch(`${own.url}/j/CCCCCCCCCCCCCCCCCCCCC${i}`)).status).toBe(200);
      expect((await fetch(`${own.url}/api/v1/links/CCCCCCCCCCCCCCCCCCCCCC/redeem`, { method: 'POST' })).status).toBe(429);
    } finally {
      await own.close();
    }
  });

  it('refuses the practice API past its per-key limit, but not requests with a wrong key', async () => {
    for (let i = 0; i < 6; i++) expect((await server.api('GET', '/api/v1/consultations', undefined, 'wrong-key')).status).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await server.api('GET', '/api/v1/consultations')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });
});
