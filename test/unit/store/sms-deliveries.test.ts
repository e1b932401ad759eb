/**
 * The delivery receipts' part of the store, on SQLite here and on PostgreSQL in the postgres
 * project: a final status is kept whatever arrives after it, and a due check is handed out once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SmsDeliveryRecord, Store } from '../../../server/store/store.js';
import { openTestStore } from '../../helpers/store.js';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);

let dir: string;
let store: Store;

async function consultation(id: string): Promise<void> {
  await store.createConsultation(
    {
      id, practiceId: 'default', status: 'created', createdAt: T0, updatedAt: T0, expiresAt: T0 + 60_000, endedReason: null,
      patientPhone: '+447700900123', patientName: null, clinicianName: null,
    },
    [{ id: `${id}-pat`, consultationId: id, role: 'patient', displayName: null }],
    [],
  );
}

const text = (notificationId: string, consultationId: string, sentAt: number, checkAt: number | null): SmsDeliveryRecord => ({
  notificationId, consultationId, sentAt, status: 'sending', statusAt: sentAt, checkAt, checks: 0,
});

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'openconsult-store-'));
  store = await openTestStore(dir);
  await consultation('c1');
  await consultation('c2');
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStore delivery receipts', () => {
  it('keeps the first final status: a later receipt, or a poll still saying sending, changes nothing', async () => {
    await store.addSmsDelivery(text('n1', 'c1', T0, T0 + 60_000));

    const delivered = await store.setSmsDelivery('n1', 'delivered', T0 + 5_000, null);
    expect(delivered).toMatchObject({ consultationId: 'c1', status: 'delivered', statusAt: T0 + 5_000, checkAt: null });
    expect(await store.setSmsDelivery('n1', 'permanent_failure', T0 + 9_000, null)).toBeUndefined();
    expect(await store.setSmsDelivery('n1', 'sending', T0, T0 + 120_000)).toBeUndefined();
    expect(await store.setSmsDelivery('unknown', 'delivered', T0, null)).toBeUndefined();

    expect((await store.latestSmsDeliveries(['c1'])).get('c1')).toMatchObject({ status: 'delivered', statusAt: T0 + 5_000 });
  });

  it('hands each due check out once, moving it to the lease and counting it', async () => {
    await store.addSmsDelivery(text('n1', 'c1', T0, T0 + 1_000));
    await store.addSmsDelivery(text('n2', 'c2', T0, T0 + 2_000));
    await store.addSmsDelivery(text('n3', 'c2', T0 + 1, T0 + 90_000));
    await store.addSmsDelivery(text('n4', 'c2', T0 + 2, null));

    const [a, b] = await Promise.all([store.takeDueSmsChecks(T0 + 3_000, T0 + 63_000, 10), store.takeDueSmsChecks(T0 + 3_000, T0 + 63_000, 10)]);
    const taken = [...a, ...b];
    expect(taken.map((d) => d.notificationId).sort()).toEqual(['n1', 'n2']);
    expect(taken.every((d) => d.checks === 1 && d.checkAt === T0 + 63_000)).toBe(true);
    expect(await store.takeDueSmsChecks(T0 + 3_000, T0 + 63_000, 10)).toEqual([]);
    expect((await store.takeDueSmsChecks(T0 + 63_000, T0 + 120_000, 1))).toHaveLength(1);
  });

  it("gives each consultation's latest text", async () => {
    await store.addSmsDelivery(text('old', 'c2', T0, null));
    await store.addSmsDelivery(text('new', 'c2', T0 + 10_000, null));
    await store.setSmsDelivery('old', 'permanent_failure', T0 + 1_000, null);

    const latest = await store.latestSmsDeliveries(['c1', 'c2']);
    expect([...latest.keys()]).toEqual(['c2']);
    expect(latest.get('c2')).toMatchObject({ notificationId: 'new', status: 'sending' });
    expect((await store.latestSmsDeliveries([])).size).toBe(0);
  });
});
