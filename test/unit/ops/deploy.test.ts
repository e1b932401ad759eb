/**
 * The deployment files: systemd units pass `systemd-analyze verify` and keep their hardening,
 * the nginx sample passes `nginx -t`, the shell scripts pass shellcheck, and the Dockerfile keeps
 * mirroring scripts/setup.sh (no Docker engine runs here, so it is checked as text). The tools
 * come from scripts/setup.sh --test; a missing one fails the test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settings } from '../../../config/settings.js';
import { projectRoot } from '../../../server/paths.js';
import { DEBIAN_RUNTIME_PACKAGES } from '../../../scripts/bundle.js';

const SEARCH_PATH = `${process.env.PATH ?? ''}:/usr/sbin:/usr/bin:/sbin:/bin`;
const env = { ...process.env, PATH: SEARCH_PATH };
const read = (rel: string) => readFileSync(path.join(projectRoot, rel), 'utf8');
const UNITS = ['openconsult.service', 'openconsult-backup.service', 'openconsult-backup.timer'];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'openconsult-deploy-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** `Key=value` lines of a unit's section. */
function directives(unit: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of read(`deploy/systemd/${unit}`).split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) out.set(m[1] as string, [...(out.get(m[1] as string) ?? []), m[2] as string]);
  }
  return out;
}

describe('systemd units', () => {
  it('harden the service: own user, read-only system, data folder writable, no new privileges', () => {
    const d = directives('openconsult.service');
    expect(d.get('User')).toEqual(['openconsult']);
    expect(d.get('ProtectSystem')).toEqual(['strict']);
    expect(d.get('ReadWritePaths')).toEqual(['/var/lib/openconsult']);
    expect(d.get('NoNewPrivileges')).toEqual(['yes']);
    expect(d.get('CapabilityBoundingSet')).toEqual(['']);
    expect(d.get('ExecStart')).toEqual(['/opt/openconsult/current/bin/openconsult']);
    expect(d.get('KillSignal')).toEqual(['SIGTERM']);
    // The data folder the service writes is the one it is told to use.
    expect(d.get('Environment')).toContain('DATA_DIR=/var/lib/openconsult');
    expect(directives('openconsult-backup.service').get('ExecStart')?.[0]).toMatch(/bin\/openconsult backup/);
  });

  it('pass systemd-analyze verify', () => {
    // ExecStart must exist for verify: point it at the launcher in this checkout.
    const files = UNITS.map((unit) => {
      const file = path.join(dir, unit);
      writeFileSync(file, read(`deploy/systemd/${unit}`).replaceAll('/opt/openconsult/current/bin/openconsult', path.join(projectRoot, 'deploy', 'openconsult')));
      return file;
    });
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...files], { encoding: 'utf8', cwd: dir, env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('are rated "OK" or better by systemd-analyze security', () => {
    const file = path.join(dir, 'openconsult.service');
    writeFileSync(file, read('deploy/systemd/openconsult.service'));
    const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', file], { encoding: 'utf8', cwd: dir, env });
    const m = /Overall exposure level for openconsult\.service: (\d+\.\d+)/.exec(r.stdout);
    expect(m, r.stdout + r.stderr).not.toBeNull();
    expect(Number(m?.[1])).toBeLessThanOrEqual(2.5);
  });
});

describe('nginx sample', () => {
  it('proxies WebSocket upgrades for socket.io with timeouts above its heartbeat, over TLS only', () => {
    const conf = read('deploy/nginx/openconsult.conf');
    const socketIo = /location \/socket\.io\/ \{([^}]*)\}/.exec(conf)?.[1] ?? '';
    expect(socketIo).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(socketIo).toMatch(/proxy_set_header Connection \$openconsult_connection;/);
    expect(socketIo).toMatch(/proxy_http_version 1\.1;/);
    const readTimeout = Number(/proxy_read_timeout (\d+)s;/.exec(socketIo)?.[1]);
    expect(readTimeout).toBeGreaterThan(10 + 8); // socket.io pingInterval + pingTimeout
    expect(conf).toMatch(/ssl_protocols TLSv1\.2 TLSv1\.3;/);
    expect(conf).toMatch(/return 301 https:\/\/\$host\$request_uri;/);
    // Every proxied location sets X-Forwarded-Proto (nginx drops inherited headers in a location that sets any).
    for (const block of conf.matchAll(/location [^{]+\{([^}]*)\}/g)) {
      expect(block[1]).toMatch(/proxy_set_header X-Forwarded-Proto \$scheme;/);
    }
  });

  it('passes nginx -t', () => {
    spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=test', '-days', '1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore', env });
    const site = read('deploy/nginx/openconsult.conf')
      .replace('/etc/ssl/openconsult/fullchain.pem', path.join(dir, 'cert.pem'))
      .replace('/etc/ssl/openconsult/privkey.pem', path.join(dir, 'key.pem'));
    writeFileSync(path.join(dir, 'site.conf'), site);
    writeFileSync(path.join(dir, 'nginx.conf'), [
      `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log;`, 'events {}',
      `http { access_log off; client_body_temp_path ${dir}/body; include ${dir}/site.conf; }`, '',
    ].join('\n'));
    const r = spawnSync('nginx', ['-t', '-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8', env });
    expect(r.stderr).toContain('test is successful');
    expect(r.status).toBe(0);
  });
});

describe('shell scripts', () => {
  it('pass shellcheck', () => {
    const r = spawnSync('shellcheck', ['-s', 'bash', 'deploy/openconsult', 'deploy/install.sh'], { encoding: 'utf8', cwd: projectRoot, env });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('Dockerfile', () => {
  const docker = read('Dockerfile');
  const setup = read('scripts/setup.sh');
  const stages = docker.split(/^FROM /m).slice(1);
  const runStage = stages.at(-1) ?? '';

  it('builds on Debian 12 in stages, the worker by the set-up script, dependencies from the lock file', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.split('\n')[0]).toMatch(/bookworm/);
    expect(docker).toContain('bash scripts/build-worker.sh');
    expect(setup).toContain('bash scripts/build-worker.sh');
    expect(docker).toMatch(/MEDIASOUP_WORKER_BIN="\$\(cat \/tmp\/worker-path\)" npm ci/);
    expect(setup).toMatch(/MEDIASOUP_WORKER_BIN="\$worker" npm ci/);
    // The worker goes where setup.sh puts it, then the release tree is laid out as `npm run bundle` does.
    expect(setup).toContain('dest=node_modules/mediasoup/worker/out/Release/mediasoup-worker');
    expect(docker).toContain('node_modules/mediasoup/worker/out/Release/mediasoup-worker');
    expect(docker).toContain('npx tsx scripts/build-client.ts');
    expect(setup).toContain('npx tsx scripts/build-client.ts');
    expect(docker).toContain('scripts/bundle.ts --skip-setup --no-node --stage /opt/openconsult');
  });

  it('runs as a non-root user, exposes the HTTP port and the media range it configures, checks /healthz', () => {
    const user = /^USER (\S+)$/m.exec(runStage)?.[1];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)$/);
    const env = /^ENV (.*)$/m.exec(runStage)?.[1] ?? '';
    const port = /\bPORT=(\d+)/.exec(env)?.[1];
    const min = /RTC_MIN_PORT=(\d+)/.exec(env)?.[1];
    const max = /RTC_MAX_PORT=(\d+)/.exec(env)?.[1];
    const expose = /^EXPOSE (.*)$/m.exec(runStage)?.[1] ?? '';
    expect(expose).toContain(`${port}/tcp`);
    expect(expose).toContain(`${min}-${max}/udp`);
    expect(expose).toContain(`${min}-${max}/tcp`);
    expect(runStage).toMatch(/^HEALTHCHECK [\s\S]*\/healthz/m);
    expect(runStage).toMatch(/^CMD \["\/opt\/openconsult\/bin\/openconsult"\]$/m);
    expect(Number(port)).toBe(settings.port.default);
  });

  it('installs the Debian runtime libraries the release checks for', () => {
    const installed = /apt-get install[^\n]*\n\s+((?:lib\S+\s*)+)/.exec(runStage)?.[1]?.trim().split(/\s+/) ?? [];
    // libstdc++6 and libgcc-s1 are in every Debian base image already.
    expect(installed.sort()).toEqual(DEBIAN_RUNTIME_PACKAGES.filter((p) => !['libstdc++6', 'libgcc-s1'].includes(p)).sort());
  });
});
