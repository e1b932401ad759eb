/** Link redemption (per IP) and the practice API (per key) answer 429 with Retry-After past their limit. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startServer } from '../../helpers/server.js';

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

  it('refuses the practice API past its per-key limit, but not requests with a wrong key', async () => {
    for (let i = 0; i < 6; i++) expect((await server.api('GET', '/api/v1/consultations', undefined, 'wrong-key')).status).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await server.api('GET', '/api/v1/consultations')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });
});
