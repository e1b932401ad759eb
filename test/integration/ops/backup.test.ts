/**
 * `npm run backup` while the service runs and writes: the copy is consistent (integrity check,
 * every consultation whole), self-contained (no -wal beside it), readable by its owner only, and
 * holds what was there when it started.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupDatabase, runBackupCli } from '../../../scripts/backup.js';
import { projectRoot } from '../../../server/paths.js';
import { DB_FILE_NAME, openDb } from '../../../server/store/db.js';
import { type TestServer, startServer } from '../../helpers/server.js';

let server: TestServer;
let out: string;

beforeAll(async () => {
  server = await startServer();
  out = mkdtempSync(path.join(tmpdir(), 'openconsult-backup-'));
});
afterAll(async () => {
  await server?.close();
  rmSync(out, { recursive: true, force: true });
});

function create(n: number) {
  return server.api('POST', '/api/v1/consultations', { patientPhone: `07700 9${String(n).padStart(5, '0')}`, patientName: `Patient ${n}` });
}

describe('backup while the service runs', () => {
  it('makes a consistent, self-contained copy while consultations are being written', async () => {
    const first = await create(1);
    expect(first.status).toBe(201);

    // Keep writing (consultations, links, audit events) for as long as the backup runs.
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        const r = await create(100 + written);
        expect(r.status).toBe(201);
        written += 1;
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    const file = path.join(out, 'during-writes.sqlite');
    const result = await backupDatabase(path.join(server.dataDir, DB_FILE_NAME), file);
    await new Promise((r) => setTimeout(r, 100));
    writing = false;
    await writer;
    expect(written).toBeGreaterThan(0);

    expect(result).toMatchObject({ file, bytes: statSync(file).size });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(`${file}-wal`)).toBe(false);

    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
      const copied = db.prepare('SELECT id, status, patient_phone, patient_name FROM consultations').all() as { id: string; patient_phone: string }[];
      expect(copied.length).toBe(result.consultations);
      expect(copied.length).toBeGreaterThanOrEqual(1);
      expect(copied.length).toBeLessThanOrEqual(1 + written);
      expect(copied.find((c) => c.id === first.body.id)).toMatchObject({ status: 'created', patient_phone: '+447700900001', patient_name: 'Patient 1' });
      // Consistent: every consultation copied has its participants, links and audit event.
      const incomplete = db.prepare(`SELECT c.id FROM consultations c WHERE
        (SELECT COUNT(*) FROM participants p WHERE p.consultation_id = c.id) <> 2 OR
        (SELECT COUNT(*) FROM links l WHERE l.consultation_id = c.id) <> 2 OR
        NOT EXISTS (SELECT 1 FROM events e WHERE e.consultation_id = c.id AND e.type = 'created')`).all();
      expect(incomplete).toEqual([]);
      expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(3);
    } finally {
      db.close();
    }
    // The service carried on.
    expect((await server.api('GET', `/api/v1/consultations/${first.body.id}`)).status).toBe(200);
  });

  it('writes dated backups into DATA_DIR/backups and keeps the newest N', async () => {
    const times = ['2026-03-01T02:30:00Z', '2026-03-02T02:30:00Z', '2026-03-03T02:30:00Z'];
    const printed: string[] = [];
    for (const t of times) {
      const code = await runBackupCli({ argv: ['--keep', '2'], env: { DATA_DIR: server.dataDir }, now: () => new Date(t), out: (l) => printed.push(l) });
      expect(code).toBe(0);
    }
    expect(readdirSync(path.join(server.dataDir, 'backups')).sort()).toEqual([
      'openconsult-20260302T023000Z.sqlite', 'openconsult-20260303T023000Z.sqlite',
    ]);
    expect(JSON.parse(printed.at(-1) as string)).toMatchObject({
      file: path.join(server.dataDir, 'backups', 'openconsult-20260303T023000Z.sqlite'),
      pruned: ['openconsult-20260301T023000Z.sqlite'],
    });
  });

  it('runs as a command (npm run backup) with --out', async () => {
    const file = path.join(out, 'command.sqlite');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts', 'backup.ts'), '--out', file], {
      cwd: projectRoot, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: server.dataDir }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout.trim())).toMatchObject({ file });
    const db = new Database(file, { readonly: true });
    expect((db.prepare('SELECT COUNT(*) AS n FROM consultations').get() as { n: number }).n).toBeGreaterThan(0);
    db.close();
  });

  it('never lets others read the copy, not even while it is being written', async () => {
    // A database in rollback-journal mode under an exclusive lock: the command's copy waits for
    // the lock (its busy timeout) with its temporary file open, and the test looks at that file.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'openconsult-backup-locked-'));
    const source = path.join(dataDir, DB_FILE_NAME);
    const prepared = openDb(source);
    prepared.pragma('journal_mode = DELETE');
    prepared.close();
    const holder = new Database(source);
    holder.exec('BEGIN EXCLUSIVE');
    const file = path.join(out, 'locked.sqlite');
    let partialMode: string | undefined;
    const seen = new Promise<void>((resolve) => {
      const watcher = watch(out, (_event, name) => {
        if (!name?.startsWith('locked.sqlite.partial-') || partialMode !== undefined) return;
        partialMode = (statSync(path.join(out, name)).mode & 0o777).toString(8);
        watcher.close();
        resolve();
      });
    });
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts', 'backup.ts'), '--out', file], {
      cwd: projectRoot, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await Promise.race([seen, exited.then(() => { throw new Error(`backup ended before its copy was seen: ${stderr}`); })]);
    } finally {
      holder.exec('COMMIT');
      holder.close();
    }
    try {
      expect(partialMode).toBe('600');
      expect(await exited, stderr).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('fails clearly when there is no database', async () => {
    const errors: string[] = [];
    const empty = mkdtempSync(path.join(tmpdir(), 'openconsult-nodb-'));
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => errors.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      expect(await runBackupCli({ argv: [], env: { DATA_DIR: empty }, out: () => undefined })).toBe(1);
    } finally {
      process.stderr.write = write;
      rmSync(empty, { recursive: true, force: true });
    }
    expect(errors.join('')).toContain(`database ${path.join(empty, DB_FILE_NAME)}`);
  });
});
