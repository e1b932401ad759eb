/**
 * The operator's commands on the data folder of a running service (the real server, its SQLite
 * file opened beside it as the release's `bin/openconsult practice|user` does): adding, listing,
 * suspending and resuming practices (at once in the running service), inviting people with a
 * one-time set-up link, disabling and enabling them, and the exit code and message of every kind
 * of bad argument. Also the command as a process from the repository.
 */
import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashCode } from '../../../server/auth/codes.js';
import { projectRoot } from '../../../server/paths.js';
import { DB_FILE_NAME, DEFAULT_PRACTICE_ID, openDb } from '../../../server/store/db.js';
import { SqliteStore } from '../../../server/store/sqlite/store.js';
import { runTenancyCli } from '../../../server/tenancy/cli.js';
import { type TestServer, startServer } from '../../helpers/server.js';

const runFile = promisify(execFile);
const PUBLIC_URL = 'https://video.example.nhs.uk';
const TEMPLATE = '5f0c8a6e-2b1d-4c3e-9f8a-7b6c5d4e3f2a';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ practiceOdsCode: 'Y00001' });
});
afterAll(async () => {
  await server?.close();
});

/** Runs the command in-process on the server's data folder; resolves to its exit code and what it wrote. */
async function cli(argv: string[], env: Record<string, string> = { PUBLIC_URL }) {
  let out = '';
  let err = '';
  const code = await runTenancyCli({
    argv, env: { DATA_DIR: server.dataDir, ...env }, out: (t) => (out += t), err: (t) => (err += t),
  });
  return { code, out, err };
}

const codeIn = (out: string) => /\/setup\/([A-Za-z0-9_-]{22})\b/.exec(out)?.[1] as string;

describe('openconsult practice', () => {
  it('adds a practice and lists every practice with its counts of people and keys, and no patient data', async () => {
    const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '+447700900123', patientName: 'Pat Example' });
    expect(created.status).toBe(201);

    expect(await cli(['practice', 'add', '--ods', 'a81001', '--name', 'Riverside Surgery', '--notify-template', TEMPLATE])).toMatchObject({ code: 0, err: '' });
    const practice = await server.app.store.findPracticeByOds('A81001');
    expect(practice).toMatchObject({ name: 'Riverside Surgery', notifyTemplateId: TEMPLATE, status: 'active' });
    await server.app.keys.create(practice!.id, 'EMIS', 'system');

    const list = await cli(['practice', 'list', '--format', 'json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out)).toEqual(expect.arrayContaining([
      { odsCode: 'Y00001', name: expect.any(String), status: 'active', users: 1, apiKeys: 1 },
      { odsCode: 'A81001', name: 'Riverside Surgery', status: 'active', users: 0, apiKeys: 1 },
    ]));
    const text = await cli(['practice', 'list']);
    expect(text.out).toMatch(/^ODS +STATUS +USERS +KEYS +NAME\n/);
    expect(text.out).toMatch(/A81001 +active +0 +1 +Riverside Surgery\n/);
    for (const out of [list.out, text.out]) expect(out).not.toMatch(/Pat Example|7700900123/);

    const events = await server.app.store.listPracticeEvents(practice!.id);
    expect(events).toContainEqual(expect.objectContaining({ actor: 'operator', type: 'practice_added', detail: { odsCode: 'A81001' } }));
  });

  it('refuses a practice whose ODS code is taken or is PRACTICE_ODS_CODE, and an unknown one (exit 1)', async () => {
    expect(await cli(['practice', 'add', '--ods', 'B82002', '--name', 'Hill Surgery'])).toMatchObject({ code: 0 });
    const again = await cli(['practice', 'add', '--ods', 'B82002', '--name', 'Other Surgery']);
    expect(again).toMatchObject({ code: 1, err: expect.stringContaining('already exists') });
    expect(await cli(['practice', 'add', '--ods', 'Y00001', '--name', 'Other Surgery'])).toMatchObject({ code: 1, err: expect.stringContaining('already exists') });
    // The code the default practice takes at its next start.
    expect(await cli(['practice', 'add', '--ods', 'Y00002', '--name', 'Other Surgery'], { PUBLIC_URL, PRACTICE_ODS_CODE: 'Y00002' }))
      .toMatchObject({ code: 1, err: expect.stringContaining('PRACTICE_ODS_CODE') });
    expect(await cli(['practice', 'suspend', '--ods', 'Z99999'])).toMatchObject({ code: 1, err: expect.stringContaining('no practice with ODS code Z99999') });
    expect((await server.app.store.findPracticeByOds('B82002'))?.name).toBe('Hill Surgery');
  });

  it('suspends a practice at once in the running service, and resumes it; the default practice stays', async () => {
    expect(await cli(['practice', 'add', '--ods', 'C83003', '--name', 'Valley Practice'])).toMatchObject({ code: 0 });
    const practice = await server.app.store.findPracticeByOds('C83003');
    const { key } = await server.app.keys.create(practice!.id, 'EMIS', 'system');
    expect((await server.api('GET', '/api/v1/consultations', undefined, key)).status).toBe(200);

    expect(await cli(['practice', 'suspend', '--ods', 'C83003'])).toMatchObject({ code: 0, out: 'C83003 is now suspended\n' });
    const refused = await server.api('GET', '/api/v1/consultations', undefined, key);
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'practice_suspended' } } });
    expect(await cli(['practice', 'suspend', '--ods', 'C83003'])).toMatchObject({ code: 0, out: 'C83003 is already suspended\n' });
    expect(JSON.parse((await cli(['practice', 'list', '--format', 'json'])).out)).toContainEqual(expect.objectContaining({ odsCode: 'C83003', status: 'suspended' }));

    expect(await cli(['practice', 'resume', '--ods', 'c83003'])).toMatchObject({ code: 0, out: 'C83003 is now active\n' });
    expect((await server.api('GET', '/api/v1/consultations', undefined, key)).status).toBe(200);
    expect((await server.app.store.listPracticeEvents(practice!.id)).map((e) => [e.actor, e.type]))
      .toEqual(expect.arrayContaining([['operator', 'practice_suspended'], ['operator', 'practice_resumed']]));

    expect(await cli(['practice', 'suspend', '--ods', 'Y00001'])).toMatchObject({ code: 1, err: expect.stringContaining('API_KEY') });
    expect((await server.app.store.getPractice(DEFAULT_PRACTICE_ID))?.status).toBe('active');
    expect((await server.api('GET', '/api/v1/consultations')).status).toBe(200);
  });
});

describe('openconsult user', () => {
  it('invites a practice admin with a one-time set-up link under PUBLIC_URL, and a new link stops the earlier one', async () => {
    expect(await cli(['practice', 'add', '--ods', 'D84004', '--name', 'Park Surgery'])).toMatchObject({ code: 0 });
    const added = await cli(['user', 'add', '--practice', 'D84004', '--email', 'a.patel@nhs.net', '--name', 'Dr A Patel', '--role', 'admin,clinician']);
    expect(added).toMatchObject({ code: 0, err: '' });
    expect(added.out).toContain(`${PUBLIC_URL}/setup/`);
    const first = codeIn(added.out);
    const user = await server.app.store.findUserByEmail('a.patel@nhs.net');
    const practice = await server.app.store.findPracticeByOds('D84004');
    expect(user).toMatchObject({ practiceId: practice!.id, displayName: 'Dr A Patel', roles: ['admin', 'clinician'], status: 'invited' });
    expect(await server.app.store.findSetupLink(hashCode(first))).toMatchObject({ userId: user!.id, usedAt: null });

    const relinked = await cli(['user', 'link', '--email', 'A.Patel@nhs.net']);
    expect(relinked.code).toBe(0);
    const second = codeIn(relinked.out);
    expect(second).not.toBe(first);
    expect(await server.app.store.takeSetupLink(hashCode(first), Date.now())).toBeUndefined();
    expect(await server.app.store.takeSetupLink(hashCode(second), Date.now())).toMatchObject({ userId: user!.id });

    const list = await cli(['user', 'list', '--practice', 'D84004', '--format', 'json']);
    expect(JSON.parse(list.out)).toEqual([{ email: 'a.patel@nhs.net', name: 'Dr A Patel', roles: ['admin', 'clinician'], status: 'invited' }]);
    expect((await cli(['user', 'list', '--practice', 'D84004'])).out).toMatch(/a\.patel@nhs\.net +invited +admin,clinician +Dr A Patel\n/);

    // The audit log names the operator and the user's id, never the e-mail or the name.
    const events = await server.app.store.listPracticeEvents(practice!.id);
    expect(events.map((e) => [e.actor, e.type])).toEqual(expect.arrayContaining([['operator', 'user_invited'], ['operator', 'setup_link_issued']]));
    expect(JSON.stringify(events)).not.toMatch(/patel/i);
  });

  it('lists names as text without the control characters one typed on the admin page could hold', async () => {
    expect(await cli(['practice', 'add', '--ods', 'J89009', '--name', 'Quay Surgery'])).toMatchObject({ code: 0 });
    const practice = await server.app.store.findPracticeByOds('J89009');
    await server.app.people.invite(practice!.id, { email: 'esc@nhs.net', displayName: 'Evil\u001b[2J Name', roles: ['receptionist'] }, 'system');
    const text = (await cli(['user', 'list', '--practice', 'J89009'])).out;
    expect(text).toContain('Evil?[2J Name');
    expect(text).not.toContain('\u001b');
  });

  it('says the link assumes http://localhost:PORT when PUBLIC_URL is not set', async () => {
    expect(await cli(['practice', 'add', '--ods', 'E85005', '--name', 'Lane Surgery'])).toMatchObject({ code: 0 });
    const added = await cli(['user', 'add', '--practice', 'E85005', '--email', 'r.jones@nhs.net', '--name', 'R Jones', '--role', 'receptionist'], { PORT: '8123' });
    expect(added.code).toBe(0);
    expect(added.out).toContain('http://localhost:8123/setup/');
    expect(added.err).toContain('PUBLIC_URL is not set');
  });

  it('disables a user, ending their sign-ins, and enables them again; a disabled user gets no new link', async () => {
    expect(await cli(['practice', 'add', '--ods', 'F86006', '--name', 'Mill Surgery'])).toMatchObject({ code: 0 });
    expect((await cli(['user', 'add', '--practice', 'F86006', '--email', 's.khan@nhs.net', '--name', 'Dr S Khan', '--role', 'clinician'])).code).toBe(0);
    const user = await server.app.store.findUserByEmail('s.khan@nhs.net');
    // As if they had set up their account and signed in.
    await server.app.store.updateUser(user!.id, { status: 'active', passwordHash: 'set-up' }, Date.now());
    await server.app.store.addStaffSession({ idHash: 'session-of-s-khan', userId: user!.id, csrfToken: 't', createdAt: Date.now(), lastSeenAt: Date.now(), expiresAt: Date.now() + 60_000 });

    expect(await cli(['user', 'disable', '--email', 's.khan@nhs.net'])).toMatchObject({ code: 0 });
    expect((await server.app.store.getUser(user!.id))?.status).toBe('disabled');
    expect(await server.app.store.getStaffSession('session-of-s-khan')).toBeUndefined();
    expect(await cli(['user', 'link', '--email', 's.khan@nhs.net'])).toMatchObject({ code: 1, err: expect.stringContaining('disabled') });

    expect(await cli(['user', 'enable', '--email', 's.khan@nhs.net'])).toMatchObject({ code: 0 });
    expect((await server.app.store.getUser(user!.id))?.status).toBe('active');
    const practice = await server.app.store.findPracticeByOds('F86006');
    expect((await server.app.store.listPracticeEvents(practice!.id)).map((e) => [e.actor, e.type]))
      .toEqual(expect.arrayContaining([['operator', 'user_disabled'], ['operator', 'user_enabled']]));
  });

  it('refuses an e-mail address that already has an account, and an unknown one (exit 1)', async () => {
    expect(await cli(['practice', 'add', '--ods', 'G87007', '--name', 'Green Surgery'])).toMatchObject({ code: 0 });
    expect((await cli(['user', 'add', '--practice', 'G87007', '--email', 'dup@nhs.net', '--name', 'A', '--role', 'admin'])).code).toBe(0);
    expect(await cli(['user', 'add', '--practice', 'G87007', '--email', 'DUP@nhs.net', '--name', 'B', '--role', 'admin'])).toMatchObject({ code: 1, err: expect.stringContaining('already has an account') });
    expect(await cli(['user', 'disable', '--email', 'nobody@nhs.net'])).toMatchObject({ code: 1, err: expect.stringContaining('no user') });
  });
});

describe('arguments', () => {
  it.each([
    [['practice', 'add', '--ods', 'A8', '--name', 'Short Code'], 'ODS code'],
    [['practice', 'add', '--ods', 'A81-001', '--name', 'Dash Code'], 'ODS code'],
    [['practice', 'add', '--ods', 'H88008', '--name', 'St John\u2019s Surgery'], 'GSM-7'],
    [['practice', 'add', '--ods', 'H88008', '--name', 'A name far too long for the first words of an SMS'], 'GSM-7'],
    [['practice', 'add', '--ods', 'H88008', '--name', 'Fine', '--notify-template', 'not-a-uuid'], 'UUID'],
    [['practice', 'add', '--ods', 'H88008'], '--name is required'],
    [['practice', 'add', '--ods', 'H88008', '--name'], '--name needs a value'],
    [['practice', 'add', '--ods', 'H88008', '--ods', 'H88009', '--name', 'Twice'], 'given twice'],
    [['practice', 'list', '--format', 'xml'], '--format'],
    [['practice', 'list', '--verbose', 'yes'], 'unexpected argument'],
    [['practice', 'remove', '--ods', 'H88008'], 'unknown command'],
    [['patient', 'list'], 'unknown command'],
    [[], 'unknown command'],
    [['user', 'add', '--practice', 'Y00001', '--email', 'x@nhs.net', '--name', 'X', '--role', 'admin,doctor'], '"doctor" is not a role'],
    [['user', 'add', '--practice', 'Y00001', '--email', 'not-an-address', '--name', 'X', '--role', 'admin'], 'e-mail address'],
    [['user', 'add', '--practice', 'Y00001', '--email', 'x@nhs.net', '--name', 'Bad\u0007Name', '--role', 'admin'], 'control characters'],
  ])('%j is a usage error (exit 2) saying %s', async (argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err).toContain('usage: openconsult practice add');
    expect(r.out).toBe('');
  });

  it('says there is no database when DATA_DIR holds none, and creates none (exit 1)', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'openconsult-cli-empty-'));
    try {
      let err = '';
      const code = await runTenancyCli({ argv: ['practice', 'list'], env: { DATA_DIR: empty }, out: () => undefined, err: (t) => (err += t) });
      expect(code).toBe(1);
      expect(err).toContain('no database at');
      expect(readdirSync(empty)).toEqual([]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('refuses to run as anyone but the database\'s owner (exit 1), since SQLite makes files beside it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'openconsult-cli-owner-'));
    try {
      const file = path.join(dir, DB_FILE_NAME);
      await new SqliteStore(openDb(file)).close();
      // As root (how the tests run), hand the database to `nobody`; otherwise it is ours and accepted.
      const foreign = process.getuid?.() === 0;
      if (foreign) chownSync(file, 65534, 65534);
      let err = '';
      const code = await runTenancyCli({ argv: ['practice', 'list'], env: { DATA_DIR: dir }, out: () => undefined, err: (t) => (err += t) });
      expect({ code, owner: err.includes('run this as the owner') }).toEqual(foreign ? { code: 1, owner: true } : { code: 0, owner: false });
      expect(readdirSync(dir)).toEqual([DB_FILE_NAME]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs from the repository as a command, with its exit codes', async () => {
    const cmd = [process.execPath, ['--import', 'tsx', path.join(projectRoot, 'server', 'tenancy', 'cli.ts')]] as const;
    const env = { PATH: process.env.PATH ?? '', DATA_DIR: server.dataDir };
    const ok = await runFile(cmd[0], [...cmd[1], 'practice', 'list'], { cwd: projectRoot, env });
    expect(ok.stdout).toMatch(/Y00001 +active/);
    const usage = await runFile(cmd[0], [...cmd[1], 'practice', 'add', '--ods', 'x'], { cwd: projectRoot, env }).catch((e: { code: number; stderr: string }) => e);
    expect(usage).toMatchObject({ code: 2, stderr: expect.stringContaining('ODS code') });
  });
});
