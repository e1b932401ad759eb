/**
 * A server under test in a process of its own, so that its CPU and memory are its own: either
 * ours (the real service, test/helpers/server.ts) or the bare baseline (bare/server.ts).
 * Started by lib/host.ts; answers requests over IPC (lib/child.ts).
 */
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import * as mediasoup from 'mediasoup';
import type { Worker } from 'mediasoup/node/lib/types.js';
import { TEST_API_KEY, type TestServer, linkIn, startServer } from '../../test/helpers/server.js';
import { serveParent } from './lib/child.js';
import { buildBarePage } from './bare/page.js';
import { type BareServer, startBareServer } from './bare/server.js';

export type HostKind = 'ours' | 'bare-media' | 'bare-signalling';

/** Same socket.io transport settings as server/signalling/signalling.ts (timers and buffer size, not logic). */
export const productSocketOptions = { pingInterval: 10_000, pingTimeout: 8_000, maxHttpBufferSize: 64 * 1024 };

const workers: Worker[] = [];
const live = { routers: 0, transports: 0, producers: 0, consumers: 0 };
mediasoup.observer.on('newworker', (w: Worker) => {
  workers.push(w);
  w.observer.once('close', () => {
    const i = workers.indexOf(w);
    if (i >= 0) workers.splice(i, 1);
  });
  w.observer.on('newrouter', (r) => {
    live.routers++;
    r.observer.once('close', () => live.routers--);
    r.observer.on('newtransport', (t) => {
      live.transports++;
      t.observer.once('close', () => live.transports--);
      t.observer.on('newproducer', (p) => {
        live.producers++;
        p.observer.once('close', () => live.producers--);
      });
      t.observer.on('newconsumer', (c) => {
        live.consumers++;
        c.observer.once('close', () => live.consumers--);
      });
    });
  });
});

let ours: TestServer | undefined;
let bare: BareServer | undefined;

async function gcNow(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
}

serveParent({
  async start(args: { kind: HostKind }) {
    if (args.kind === 'ours') {
      ours = await startServer({ logLevel: 'error' });
      return { url: ours.url, workerPids: workers.map((w) => w.pid), apiKey: TEST_API_KEY };
    }
    bare = await startBareServer({
      mode: args.kind === 'bare-media' ? 'media' : 'signalling',
      ...(args.kind === 'bare-media' ? { page: await buildBarePage() } : {}),
      socketOptions: productSocketOptions,
    });
    return { url: bare.url, workerPids: workers.map((w) => w.pid) };
  },

  /** Creates consultations through the practice API; links come from the SMS outbox (ours). */
  async createConsultations(args: { n: number }) {
    if (!ours) throw new Error('ours is not running');
    const created: { id: string; clinicianUrl: string }[] = [];
    for (let i = 0; i < args.n; i++) {
      const res = await ours.api('POST', '/api/v1/consultations', {
        patientPhone: '07700 900123', patientName: `Patient ${i + 1}`, clinicianName: 'Dr Bench',
      });
      if (res.status !== 201) throw new Error(`create consultation: ${res.status} ${JSON.stringify(res.body)}`);
      created.push({ id: res.body.id, clinicianUrl: res.body.clinicianUrl });
    }
    const sms = new Map((await ours.outbox()).map((m) => [m.consultationId, m.body]));
    return created.map((c) => {
      const body = sms.get(c.id);
      if (!body) throw new Error(`no SMS for consultation ${c.id}`);
      return { ...c, patientUrl: linkIn(body) };
    });
  },

  async endConsultation(args: { id: string }) {
    if (!ours) throw new Error('ours is not running');
    const res = await ours.api('POST', `/api/v1/consultations/${args.id}/end`, {});
    if (res.status !== 200) throw new Error(`end consultation: ${res.status}`);
    return null;
  },

  async usage() {
    const ws = await Promise.all(workers.map(async (w) => {
      const ru = await w.getResourceUsage();
      return { pid: w.pid, cpuSeconds: (ru.ru_utime + ru.ru_stime) / 1000, maxRssKb: ru.ru_maxrss };
    }));
    const cpu = process.cpuUsage();
    return { cpuSeconds: (cpu.user + cpu.system) / 1e6, memory: process.memoryUsage(), workers: ws };
  },

  /**
   * Memory after full garbage collections (the process runs with --expose-gc), and how much of
   * the heap is compiled code: V8 keeps optimising hot functions for minutes, which grows the
   * heap without anything leaking.
   */
  async memoryAfterGc() {
    await gcNow();
    const code = getHeapSpaceStatistics().filter((s) => s.space_name.startsWith('code')).reduce((n, s) => n + s.space_used_size, 0);
    return { ...process.memoryUsage(), code };
  },

  /** A V8 heap snapshot after full GCs (to find what a soak left behind: compare two in DevTools). */
  async heapSnapshot(args: { file: string }) {
    await gcNow();
    return writeHeapSnapshot(args.file);
  },

  /** Live mediasoup objects and what each worker says it still holds. */
  async mediaCounts() {
    const dumps = await Promise.all(workers.map((w) => w.dump()));
    const handlers = dumps.map((d) => {
      const h = (d as unknown as { channelMessageHandlers?: Record<string, unknown[]> }).channelMessageHandlers ?? {};
      return Object.values(h).reduce((n, v) => n + (Array.isArray(v) ? v.length : 0), 0);
    });
    const routerIds = dumps.reduce((n, d) => n + d.routerIds.length, 0);
    return { ...live, workerRouters: routerIds, workerHandlers: handlers.reduce((a, b) => a + b, 0) };
  },

  joined() {
    return bare?.joined() ?? 0;
  },
}, async () => {
  await ours?.close().catch(() => undefined);
  await bare?.close().catch(() => undefined);
});
