/**
 * nginx in the foreground on loopback with one site file, for the tests of the deploy/ samples:
 * a folder of its own (pid, logs, temp files), `nginx -t` first, stopped (SIGQUIT) by close().
 * nginx lives in /usr/sbin, not always on PATH; setup.sh --test installs it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The tool's absolute path ('' when missing). */
export function which(cmd: string): string {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8', env: { PATH: `${process.env.PATH ?? ''}:/usr/sbin:/usr/bin:/sbin:/bin` } }).stdout.trim();
}

export interface Nginx {
  dir: string;
  /** The site's access log so far ('' before the first line). */
  accessLog(): string;
  close(): Promise<void>;
}

/** A folder for nginx with a self-signed certificate for localhost (cert.pem, key.pem). */
export function nginxFolder(): string {
  const openssl = which('openssl');
  if (!openssl || !which('nginx')) throw new Error('nginx and openssl are needed: run scripts/setup.sh --test');
  const dir = mkdtempSync(path.join(tmpdir(), 'openconsult-nginx-'));
  chmodSync(dir, 0o755);
  spawnSync(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  return dir;
}

/** Checks `site` (the contents of an http {} include) with `nginx -t`, runs it, and waits until `port` accepts. */
export async function runNginx(dir: string, site: string, port: number): Promise<Nginx> {
  const bin = which('nginx');
  writeFileSync(path.join(dir, 'site.conf'), site);
  writeFileSync(path.join(dir, 'nginx.conf'), [
    'worker_processes 1;', `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log;`, 'events {}',
    `http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; include ${dir}/site.conf; }`, '',
  ].join('\n'));
  const args = ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf')];
  const check = spawnSync(bin, ['-t', ...args], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t refused the site:\n${check.stderr}`);
  const child: ChildProcess = spawn(bin, [...args, '-g', 'daemon off;'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  await portOpen(port, 10_000);
  return {
    dir,
    accessLog: () => {
      try {
        return readFileSync(path.join(dir, 'access.log'), 'utf8');
      } catch {
        return '';
      }
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGQUIT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function portOpen(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
