/**
 * The operator's commands with DATABASE_URL (a real server on PostgreSQL beside them): the
 * tenancy and report commands work on the shared database; `backup` refuses, pointing to pg_dump
 * (exit 2), without repeating the URL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { runReportCli } from '../../../server/reports/cli.js';
import { runBackupCli } from '../../../server/store/backup.js';
import { runTenancyCli } from '../../../server/tenancy/cli.js';
import { type TestServer, startServer } from '../../helpers/server.js';

let server: TestServer;
/** The commands' own DATA_DIR: empty, as on an operator's machine in the region mode. */
let elsewhere: string;

beforeAll(async () => {
  server = await startServer({ practiceOdsCode: 'Y00001' });
  elsewhere = mkdtempSync(path.join(tmpdir(), 'openconsult-cmd-'));
});
afterAll(async () => {
  await server?.close();
  rmSync(elsewhere, { recursive: true, force: true });
});

const env = () => ({ DATA_DIR: elsewhere, DATABASE_URL: server.databaseUrl as string, PUBLIC_URL: 'https://video.example.nhs.uk' });

it('runs practice and user commands on PostgreSQL, seen at once by the running service', async () => {
  expect(server.databaseUrl).toMatch(/^postgres/);
  let out = '';
  let err = '';
  const cli = (argv: string[]) => runTenancyCli({ argv, env: env(), out: (t) => (out += t), err: (t) => (err += t) });
  expect(await cli(['practice', 'add', '--ods', 'A81001', '--name', 'Riverside Surgery'])).toBe(0);
  expect(err).toBe('');
  expect(await server.app.store.findPracticeByOds('A81001')).toMatchObject({ name: 'Riverside Surgery', status: 'active' });
  expect(await cli(['user', 'add', '--practice', 'A81001', '--email', 'gp@example.nhs.uk', '--name', 'Dr A', '--role', 'clinician'])).toBe(0);
  expect(out).toMatch(/\/setup\/[A-Za-z0-9_-]{22}\b/);
  expect(await server.app.store.findUserByEmail('GP@example.nhs.uk')).toMatchObject({ displayName: 'Dr A', status: 'invited' });
});

it('reports on PostgreSQL', async () => {
  expect((await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123' })).status).toBe(201);
  let out = '';
  expect(await runReportCli({ argv: ['s97', '--week', '2026-W48'], env: env(), out: (t) => (out += t) })).toBe(0);
  expect(JSON.parse(out)).toBeTruthy();
});

it('refuses a backup, pointing to pg_dump, with exit code 2 and without the URL', async () => {
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(await runBackupCli({ argv: [], env: env(), out: () => undefined })).toBe(2);
    const said = stderr.mock.calls.map((c) => String(c[0])).join('');
    expect(said).toContain('pg_dump');
    expect(said).not.toContain(server.databaseUrl as string);
  } finally {
    stderr.mockRestore();
  }
});
