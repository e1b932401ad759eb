/** Starts a server under test (host-main.ts) in a child process and talks to it. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostKind } from '../host-main.js';
import { type Child, forkChild } from './child.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const benchDir = path.resolve(here, '..');

export interface WorkerUsage { pid: number; cpuSeconds: number; maxRssKb: number }
export interface Usage { cpuSeconds: number; memory: NodeJS.MemoryUsage; workers: WorkerUsage[] }

export interface Host {
  kind: HostKind;
  url: string;
  pid: number;
  workerPids: number[];
  child: Child;
  usage(): Promise<Usage>;
  close(): Promise<void>;
}

export async function startHost(kind: HostKind): Promise<Host> {
  const child = await forkChild(path.join(benchDir, 'host-main.ts'), { name: `server (${kind})`, nodeArgs: ['--expose-gc', ...(process.env.BENCH_HOST_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_HOST_PROFILE}`] : [])] });
  try {
    const info = await child.call<{ url: string; workerPids: number[] }>('start', { kind });
    return {
      kind, url: info.url, pid: child.pid, workerPids: info.workerPids, child,
      usage: () => child.call<Usage>('usage'),
      close: () => child.close(),
    };
  } catch (err) {
    await child.close();
    throw err;
  }
}

export function startLoadGenerator(): Promise<Child> {
  return forkChild(path.join(benchDir, 'loadgen-main.ts'), { name: 'load generator' });
}
