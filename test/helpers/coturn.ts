/**
 * Debian's coturn on loopback for relay tests: TURN REST API auth (use-auth-secret), UDP and TCP
 * listeners, loopback peers allowed (test only: production config denies them, see config/).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Coturn {
  port: number;
  close(): Promise<void>;
}

async function listening(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`turnserver exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error('turnserver did not start listening');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startCoturn(opts: { port: number; secret: string; relayMinPort: number; relayMaxPort: number }): Promise<Coturn> {
  const dir = await mkdtemp(path.join(tmpdir(), 'openconsult-coturn-'));
  const child = spawn('turnserver', [
    '-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${opts.port}`,
    '--use-auth-secret', `--static-auth-secret=${opts.secret}`, '--realm=openconsult.test', '--fingerprint',
    '--allow-loopback-peers', '--no-cli', '--no-tls', '--no-dtls', '--no-multicast-peers',
    `--min-port=${opts.relayMinPort}`, `--max-port=${opts.relayMaxPort}`,
    `--pidfile=${path.join(dir, 'turnserver.pid')}`, `--log-file=${path.join(dir, 'turn.log')}`, '--simple-log', '--no-stdout-log',
  ], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await listening(opts.port, child, 10_000);
  return {
    port: opts.port,
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
