/**
 * The first start (`npm start` on an empty data folder, as a real process): it prints a one-time
 * link to set up the default practice's first admin; each later start prints a new one and the
 * earlier stops working, until an admin has set up their account; then none is printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { hashCode } from '../../../server/auth/codes.js';
import { DB_FILE_NAME, DEFAULT_PRACTICE_ID, openDb } from '../../../server/store/db.js';
import { SqliteStore } from '../../../server/store/sqlite/store.js';
import { freePort, startService } from '../../helpers/process.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'openconsult-first-start-'));
const PUBLIC_URL = 'https://video.example.nhs.uk';

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Starts the service on the data folder, stops it (SIGTERM) and resolves to the set-up link's code it printed, if any. */
async function startAndStop(): Promise<string | undefined> {
  const service = await startService({ DATA_DIR: dataDir, PUBLIC_URL, API_KEY: 'first-start-api-key-0123456789abcdef' }, await freePort());
  service.child.kill('SIGTERM');
  expect(await service.exited).toBe(0);
  const out = service.output();
  const links = [...out.matchAll(/(\S+)\/setup\/([A-Za-z0-9_-]{22})\b/g)];
  expect(links.length).toBeLessThanOrEqual(1);
  if (links[0]) expect(links[0][1]).toBe(PUBLIC_URL);
  return links[0]?.[2];
}

async function withStore<T>(fn: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = new SqliteStore(openDb(path.join(dataDir, DB_FILE_NAME)));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

it('prints a set-up link for the first admin at each start until one has set up, and then none', async () => {
  const first = await startAndStop();
  expect(first).toBeDefined();
  const second = await startAndStop();
  expect(second).toBeDefined();
  expect(second).not.toBe(first);

  await withStore(async (store) => {
    // The first link stopped working; the second works for the one invited admin.
    expect(await store.takeSetupLink(hashCode(first as string), Date.now())).toBeUndefined();
    const admins = (await store.listUsers(DEFAULT_PRACTICE_ID)).filter((u) => u.roles.includes('admin'));
    expect(admins).toHaveLength(1);
    expect(admins[0]?.status).toBe('invited');
    expect(await store.findSetupLink(hashCode(second as string))).toMatchObject({ userId: admins[0]?.id, usedAt: null });
    // As if they had opened it and set up their account.
    await store.updateUser(admins[0]!.id, { status: 'active', passwordHash: 'set-up' }, Date.now());
  });

  expect(await startAndStop()).toBeUndefined();
  await withStore(async (store) => {
    expect((await store.listUsers(DEFAULT_PRACTICE_ID)).filter((u) => u.roles.includes('admin'))).toHaveLength(1);
  });
}, 60_000);
