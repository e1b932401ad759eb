/**
 * Debian's coturn on loopback for relay tests: TURN REST API auth (use-auth-secret), UDP and TCP
 * listeners, loopback peers allowed (test only: production config denies them, see config/).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { accepting } from './engines.js';

export interface Coturn {
  port: number;
  close(): Promise<void>;
}

export async function startCoturn(opts: {
  port: number; secret: string; relayMinPort: number; relayMaxPort: number;
  /** Another address to listen on besides loopback: a phone in a namespace of its own reaches the service address. */
  alsoListenOn?: string;
}): Promise<Coturn> {
  const dir = await mkdtemp(path.join(tmpdir(), 'openconsult-coturn-'));
  const child = spawn('turnserver', [
    '-n', '--listening-ip=127.0.0.1', ...(opts.alsoListenOn ? [`--listening-ip=${opts.alsoListenOn}`] : []), '--relay-ip=127.0.0.1', `--listening-port=${opts.port}`,
    '--use-auth-secret', `--static-auth-secret=${opts.secret}`, '--realm=openconsult.test', '--fingerprint',
    '--allow-loopback-peers', '--no-cli', '--no-tls', '--no-dtls', '--no-multicast-peers',
    `--min-port=${opts.relayMinPort}`, `--max-port=${opts.relayMaxPort}`,
    `--pidfile=${path.join(dir, 'turnserver.pid')}`, `--log-file=${path.join(dir, 'turn.log')}`, '--simple-log', '--no-stdout-log',
  ], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await accepting(opts.port, child, 'turnserver', 10_000);
  return {
    port: opts.port,
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
