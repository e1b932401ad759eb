/**
 * Benchmark parts that must be measured apart (a server, a load generator) run in child
 * processes of their own, driven by request/response messages over Node's IPC channel.
 */
import { type ChildProcess, fork } from 'node:child_process';

interface Request { id: number; cmd: string; args: unknown }
type Response = { id: number; ok: true; data: unknown } | { id: number; ok: false; error: string };

export interface Child {
  readonly pid: number;
  call<T = unknown>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks the child to finish, then kills it if it does not exit in time. */
  close(): Promise<void>;
}

export function forkChild(modulePath: string, opts: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv; name: string }): Promise<Child> {
  const proc: ChildProcess = fork(modulePath, [], {
    execArgv: ['--import', 'tsx', ...(opts.nodeArgs ?? [])],
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let seq = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => proc.once('exit', (code, signal) => {
    exited = true;
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`${opts.name} exited (code ${code}, signal ${signal})`));
    }
    pending.clear();
    resolve();
  }));
  proc.on('message', (m: Response | { ready: true }) => {
    if ('ready' in m) return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.data);
    else p.reject(new Error(`${opts.name}: ${m.error}`));
  });
  const child: Child = {
    pid: proc.pid ?? -1,
    call<T>(cmd: string, args?: unknown, timeoutMs = 300_000) {
      if (exited) return Promise.reject(new Error(`${opts.name} is not running`));
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${opts.name}: ${cmd} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        proc.send({ id, cmd, args } satisfies Request);
      });
    },
    async close() {
      if (exited) return;
      await child.call('exit', undefined, 15_000).catch(() => undefined);
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(killer);
    },
  };
  return new Promise<Child>((resolve, reject) => {
    const onReady = (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'ready' in m) {
        proc.off('message', onReady);
        resolve(child);
      }
    };
    proc.on('message', onReady);
    proc.once('exit', (code) => reject(new Error(`${opts.name} exited before it was ready (code ${code})`)));
  });
}

/** The child's side: answers requests with the handler of the same name; 'exit' ends the process. */
export function serveParent(handlers: Record<string, (args: any) => unknown>, onExit: () => Promise<void> = async () => undefined): void {
  if (!process.send) throw new Error('not started as a benchmark child (no IPC channel)');
  const send = (m: Response | { ready: true }) => process.send?.(m);
  process.on('message', (m: Request) => {
    if (m.cmd === 'exit') {
      void onExit().finally(() => {
        send({ id: m.id, ok: true, data: null });
        setTimeout(() => process.exit(0), 50);
      });
      return;
    }
    const h = handlers[m.cmd];
    if (!h) {
      send({ id: m.id, ok: false, error: `unknown command ${m.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => h(m.args))
      .then(
        (data) => send({ id: m.id, ok: true, data: data ?? null }),
        (err: unknown) => send({ id: m.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
      );
  });
  // The parent going away ends us too (no orphans if the bench crashes).
  process.on('disconnect', () => void onExit().finally(() => process.exit(0)));
  send({ ready: true });
}
