/**
 * Data retention on a running service with a fake clock: a consultation created and ended
 * through the API loses its phone number and names RETENTION_DAYS later; the API still shows it
 * with its status and its audit log; the console list no longer has the name or number.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_FILE_NAME } from '../../../server/store/db.js';
import { type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

const DAY = 24 * 3600 * 1000;
let clock = Date.UTC(2026, 4, 4, 9, 0, 0);
let server: TestServer;

beforeAll(async () => {
  server = await startServer({ retentionDays: 7 }, { now: () => clock });
});
afterAll(async () => {
  await server?.close();
});

describe('data retention on a running service', () => {
  it('deletes personal data RETENTION_DAYS after the end and keeps the consultation and its audit log', async () => {
    const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900777', patientName: 'Rita Retained', clinicianName: 'Dr Keeper' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    clock += 5 * 60_000;
    expect((await server.api('POST', `/api/v1/consultations/${id}/end`)).status).toBe(200);
    const audit = (await server.api('GET', `/api/v1/consultations/${id}/events`)).body.events as { type: string }[];

    clock += 7 * DAY - 1;
    expect((await server.app.runRetention()).consultations).toEqual([]);
    const since = new Date(clock - 30 * DAY).toISOString();
    let list = (await server.api('GET', `/api/v1/consultations?since=${since}`)).body.consultations as { id: string; patientName: string | null; patientPhone: string | null }[];
    expect(list.find((c) => c.id === id)).toMatchObject({ patientName: 'Rita Retained' });

    clock += 2;
    expect((await server.app.runRetention()).consultations).toEqual([id]);

    const after = await server.api('GET', `/api/v1/consultations/${id}`);
    expect(after.body).toMatchObject({ id, status: 'ended', endedReason: 'ended_by_api' });
    const events = (await server.api('GET', `/api/v1/consultations/${id}/events`)).body.events as { type: string }[];
    expect(events.slice(0, audit.length)).toEqual(audit);
    expect(events.at(-1)).toMatchObject({ type: 'personal_data_deleted', actor: 'system', detail: { retentionDays: 7 } });
    list = (await server.api('GET', `/api/v1/consultations?since=${since}`)).body.consultations;
    expect(list.find((c) => c.id === id)).toMatchObject({ patientName: null, patientPhone: null });

    const db = new Database(path.join(server.dataDir, DB_FILE_NAME), { readonly: true });
    try {
      expect(db.prepare('SELECT patient_phone, patient_name, clinician_name FROM consultations WHERE id = ?').get(id))
        .toEqual({ patient_phone: null, patient_name: null, clinician_name: null });
      expect(db.prepare('SELECT display_name FROM participants WHERE consultation_id = ? AND display_name IS NOT NULL').all(id)).toEqual([]);
    } finally {
      db.close();
    }
    expect((await server.outbox()).filter((m) => m.consultationId === id)).toEqual([]);
  });

  it('drops an SMS outbox line once its link is redeemed, keeping the lines of unused links', async () => {
    const redeemed = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900778' });
    const waiting = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900779' });
    const line = (await server.outbox()).find((m) => m.consultationId === redeemed.body.id);
    expect((await fetch(`${server.url}/api/v1/links/${codeOf(linkIn(line!.body))}/redeem`, { method: 'POST' })).status).toBe(200);

    expect(await server.app.runRetention()).toEqual({ consultations: [], outboxLines: 1, staffSessions: 0 });
    const ids = (await server.outbox()).map((m) => m.consultationId);
    expect(ids).not.toContain(redeemed.body.id);
    expect(ids).toContain(waiting.body.id);
  });
});
