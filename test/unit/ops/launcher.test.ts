/**
 * The release launcher (deploy/openconsult, bin/openconsult in a release) refuses to start with
 * a clear message when a Debian runtime library is missing or Node.js is the wrong version.
 * A small release tree is faked: the launcher, BUNDLE.json and stand-ins for the binaries.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../../server/paths.js';

const WORKER = 'node_modules/mediasoup/worker/out/Release/mediasoup-worker';
const ADDON = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';

let dir: string;

function manifest(modules: string): string {
  return `${JSON.stringify({
    name: 'openconsult', version: '9.9.9', commit: 'abc', dirty: false, builtAt: '2026-01-01T00:00:00.000Z', platform: 'linux-x64',
    node: { version: '20.0.0', major: 20, modules, bundled: false },
    mediasoup: '3.13.5', worker: { path: WORKER, sha256: 'x' },
    debianPackages: ['libuv1', 'libssl3', 'libsrtp2-1', 'libusrsctp2', 'libabsl20220623', 'libnss3', 'libnspr4', 'libstdc++6', 'libgcc-s1'],
  }, null, 2)}\n`;
}

/** A release tree whose worker is `workerBinary`, for the Node.js on PATH (no bundled one). */
function fakeRelease(name: string, workerBinary: string, modules = process.versions.modules): string {
  const root = path.join(dir, name);
  for (const f of ['bin', path.dirname(WORKER), path.dirname(ADDON)]) mkdirSync(path.join(root, f), { recursive: true });
  copyFileSync(path.join(projectRoot, 'deploy', 'openconsult'), path.join(root, 'bin', 'openconsult'));
  chmodSync(path.join(root, 'bin', 'openconsult'), 0o755);
  writeFileSync(path.join(root, 'BUNDLE.json'), manifest(modules));
  copyFileSync(workerBinary, path.join(root, WORKER));
  copyFileSync('/bin/true', path.join(root, ADDON));
  return root;
}

function launch(root: string, command: string) {
  const r = spawnSync(path.join(root, 'bin', 'openconsult'), [command], {
    encoding: 'utf8', env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` },
  });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'openconsult-launcher-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('release launcher', () => {
  it('names the missing Debian library and the package to install', () => {
    // A program linked against stand-ins named like the worker's libraries (versions no system has), then removed.
    const build = path.join(dir, 'build');
    mkdirSync(build, { recursive: true });
    writeFileSync(path.join(build, 'lib.c'), 'int stub(void) { return 0; }\n');
    writeFileSync(path.join(build, 'main.c'), 'int stub(void);\nint main(void) { return stub(); }\n');
    for (const soname of ['libsrtp2.so.9', 'libusrsctp.so.9']) {
      execFileSync('cc', ['-shared', '-fPIC', '-o', path.join(build, soname), `-Wl,-soname,${soname}`, path.join(build, 'lib.c')]);
    }
    execFileSync('cc', ['-o', path.join(build, 'worker'), path.join(build, 'main.c'), '-Wl,--no-as-needed', '-L', build, '-l:libsrtp2.so.9', '-l:libusrsctp.so.9']);
    rmSync(path.join(build, 'libsrtp2.so.9'));
    rmSync(path.join(build, 'libusrsctp.so.9'));

    const root = fakeRelease('missing-lib', path.join(build, 'worker'));
    for (const command of ['check', 'start']) {
      const r = launch(root, command);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('Debian runtime libraries are missing: libsrtp2.so.9 libusrsctp.so.9');
      expect(r.stderr).toContain('apt-get install libsrtp2-1 libusrsctp2');
      expect(r.stderr).toContain('libuv1 libssl3 libsrtp2-1 libusrsctp2 libabsl20220623 libnss3 libnspr4');
    }
  });

  it('refuses a Node.js whose native-module ABI is not the one the release was built for', () => {
    const root = fakeRelease('wrong-node', '/bin/true', '999');
    const r = launch(root, 'start');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('this release was built for Node.js 20 (module ABI 999)');
    expect(r.stderr).toContain(`(ABI ${process.versions.modules})`);
  });

  it('says so when started outside a release', () => {
    const root = fakeRelease('no-manifest', '/bin/true');
    rmSync(path.join(root, 'BUNDLE.json'));
    const r = launch(root, 'check');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not an unpacked openconsult release');
  });
});
