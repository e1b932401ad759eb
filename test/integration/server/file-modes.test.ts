/**
 * DATA_DIR holds personal data and secrets: the folder is created 0700 and the database, its
 * -wal/-shm, the generated secrets and the SMS outbox 0600, whatever the process umask (here 0,
 * which would otherwise leave them readable and writable by everyone).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_FILE_NAME } from '../../../server/store/db.js';
import { type TestServer, startServer } from '../../helpers/server.js';

let parent: string;
let dataDir: string;
let server: TestServer;

beforeAll(async () => {
  parent = mkdtempSync(path.join(tmpdir(), 'openconsult-modes-'));
  dataDir = path.join(parent, 'nested', 'data');
  const umask = process.umask(0);
  try {
    server = await startServer({ dataDir, apiKey: undefined });
    expect((await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900321' }, server.app.apiKey.value)).status).toBe(201);
  } finally {
    process.umask(umask);
  }
});
afterAll(async () => {
  await server?.close();
  rmSync(parent, { recursive: true, force: true });
});

const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);

describe('files in DATA_DIR under umask 0', () => {
  it('creates the data folder for the owner only', () => {
    expect(mode(dataDir)).toBe('700');
    expect(mode(path.join(parent, 'nested'))).toBe('700');
  });

  it('creates the database, its -wal and -shm, the secrets and the outbox 0600', () => {
    const db = path.join(dataDir, DB_FILE_NAME);
    for (const file of [db, `${db}-wal`, `${db}-shm`, path.join(dataDir, 'session-secret'), path.join(dataDir, 'api-key'), server.app.config.smsOutboxFile]) {
      expect(mode(file), file).toBe('600');
    }
  });
});
