/**
 * Graceful stop: once draining (the first thing SIGTERM does), new consultations are refused
 * with 503 `unavailable` and Retry-After, /readyz says not ready, and everything already under
 * way (reading, links, ending) still works. Closing flushes the database into one file.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_FILE_NAME } from '../../../server/store/db.js';
import { type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

describe('draining before a stop', () => {
  it('refuses new consultations and readiness, and keeps serving what is under way', async () => {
    const open = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900321' });
    expect(open.status).toBe(201);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    server.app.drain();

    const refused = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900322' });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('unavailable');
    expect(refused.headers.get('retry-after')).toBe('30');

    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not_ready', checks: { accepting: false } });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    expect((await server.api('GET', `/api/v1/consultations/${open.body.id}`)).body.status).toBe('created');
    const sms = (await server.outbox()).find((m) => m.consultationId === open.body.id);
    const redeemed = await fetch(`${server.url}/api/v1/links/${codeOf(linkIn(sms!.body))}/redeem`, { method: 'POST' });
    expect(redeemed.status).toBe(200);
    expect((await server.api('POST', `/api/v1/consultations/${open.body.id}/end`)).body.status).toBe('ended');
  });

  it('leaves a single, flushed database file after closing', async () => {
    const db = path.join(server.dataDir, DB_FILE_NAME);
    await server.app.close();
    expect(existsSync(db)).toBe(true);
    expect(existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0).toBe(0);
  });
});
