/**
 * Debian's PostgreSQL and Redis as ordinary child processes on loopback, each with a temporary
 * data folder (design.md 6): nothing is installed as a service, nothing outlives the test.
 * `restart()` stops the engine and starts it again on the same port and data (PostgreSQL keeps
 * its data; Redis runs without persistence, as a restart with nothing saved).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './process.js';

export interface Engine {
  /** postgres://… or redis://… on 127.0.0.1. */
  url: string;
  port: number;
  /** Stops the process (SIGTERM, or SIGKILL when `hard`) and waits for it to exit. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port (after stop(), or stops it first). */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it and deletes its data. */
  close(): Promise<void>;
}

/** The newest PostgreSQL Debian installed (its binaries are not on PATH). */
function pgBin(name: string): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error('PostgreSQL is not installed: run scripts/setup.sh --test');
  return `/usr/lib/postgresql/${versions[0]}/bin/${name}`;
}

/** Resolves once `port` on loopback accepts connections; throws if `child` exits first or time runs out. */
export async function accepting(port: number, child: ChildProcess, name: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited before accepting connections`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`${name} did not start listening on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function processEngine(name: string, spawnIt: () => ChildProcess, port: number, url: string, ready: () => Promise<void>, dir: string): Engine {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const engine: Engine = {
    url,
    port,
    async start() {
      if (child) return;
      const c = spawnIt();
      child = c;
      let log = '';
      c.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
      exited = new Promise((resolve) => c.once('exit', () => resolve()));
      try {
        await accepting(port, c, name);
        await ready();
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${log}`);
      }
    },
    async stop(hard = false) {
      const c = child;
      if (!c) return;
      child = undefined;
      if (c.exitCode === null && c.signalCode === null) c.kill(hard ? 'SIGKILL' : 'SIGTERM');
      await exited;
    },
    async restart() {
      await engine.stop();
      await engine.start();
    },
    async close() {
      await engine.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return engine;
}

/**
 * A PostgreSQL cluster of its own: database `openconsult`, user `openconsult`, trust auth on
 * loopback. initdb refuses root, so as root the data folder belongs to `postgres` and the server
 * runs as that user.
 */
export async function startPostgres(): Promise<Engine> {
  const dir = mkdtempSync(path.join(tmpdir(), 'openconsult-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]) as [string, string[]];
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const [initCmd, initArgs] = run(pgBin('initdb'), ['-D', data, '-A', 'trust', '-U', 'openconsult', '--no-sync', '-E', 'UTF8', '--locale=C']);
  execFileSync(initCmd, initArgs, { stdio: 'ignore' });
  const port = await freePort();
  const url = `postgres://openconsult@127.0.0.1:${port}/openconsult`;
  const spawnIt = () => {
    const [cmd, args] = run(pgBin('postgres'), [
      '-D', data, '-k', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1',
      // A test database: durability across a machine crash is not what is tested.
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
    ]);
    return spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  // Accepting TCP is not yet accepting queries: wait until the server answers one.
  const ready = async () => {
    const { default: pg } = await import('pg');
    const until = Date.now() + 20_000;
    for (;;) {
      const client = new pg.Client({ connectionString: `postgres://openconsult@127.0.0.1:${port}/postgres` });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch (err) {
        await client.end().catch(() => undefined);
        if (Date.now() > until) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const engine = processEngine('postgres', spawnIt, port, url, ready, dir);
  await engine.start();
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: `postgres://openconsult@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query('CREATE DATABASE openconsult');
  await admin.end();
  return engine;
}

/** A fresh, empty database in a running cluster (one per test file or server). */
export async function createDatabase(clusterUrl: string, name: string): Promise<string> {
  const { default: pg } = await import('pg');
  const u = new URL(clusterUrl);
  u.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: u.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/[^a-z0-9_]/g, '_')}"`);
  } finally {
    await admin.end();
  }
  u.pathname = `/${name.replace(/[^a-z0-9_]/g, '_')}`;
  return u.toString();
}

/** A Redis server without persistence (`--save '' --appendonly no`): a restart loses everything. */
export async function startRedis(): Promise<Engine> {
  const dir = mkdtempSync(path.join(tmpdir(), 'openconsult-redis-'));
  const port = await freePort();
  const spawnIt = () => spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const engine = processEngine('redis-server', spawnIt, port, `redis://127.0.0.1:${port}`, async () => undefined, dir);
  await engine.start();
  return engine;
}
