/**
 * Signalling: many socket.io clients (socket.io-client in this process, default transports:
 * long-polling then upgrade to WebSocket, as browsers do) hold a session in a waiting room.
 *
 * Ours: a consultation per client, its patient link redeemed over HTTP beforehand (session
 * cookie), then connect with the cookie + auth {consultationId} and emit 'join': the patient
 * is in the waiting room. Bare: a plain socket.io server whose 'join' is acknowledged and
 * recorded in a Map. Same socket.io transport settings (ping timers, buffer size) on both.
 *
 * Memory per connection: the server process's JS heap + external memory after full garbage
 * collections, with everything connected minus before anyone connected (so the consultations
 * and links that exist before the clients come are not counted), divided by the clients.
 * Joins per second: connect + join acknowledged, 50 in flight at a time.
 */
import { io, type Socket } from 'socket.io-client';
import { type Host, startHost } from './lib/host.js';
import { rssBytes } from './lib/proc.js';
import { type Figure, figure } from './lib/report.js';
import { percentile, pool, round, sleep } from './lib/stats.js';
import { redeemLink } from './synthetic/calls.js';

export interface SignallingOptions {
  clients: number;
  log: (line: string) => void;
  /** Joins in flight at once. */
  concurrency?: number;
}

export interface SignallingSide {
  clients: number;
  joined: number;
  failed: number;
  errors: string[];
  seconds: number;
  joinsPerSecond: number;
  joinLatencyP50: number;
  joinLatencyP95: number;
  /** Median join latency of the first and the last tenth of the clients (does joining slow down as rooms fill?). */
  joinLatencyFirstTenthP50: number;
  joinLatencyLastTenthP50: number;
  /** CPU while clients joined, in % of one core: the server process and this (client) process. */
  serverCpu: number;
  clientCpu: number;
  heapPlusExternalPerConnection: number;
  rssPerConnection: number;
  workerRssPerConnection: number | null;
  before: NodeJS.MemoryUsage;
  after: NodeJS.MemoryUsage;
}

type Ack = { ok: boolean; error?: unknown };

function connectAndJoin(url: string, opts: Parameters<typeof io>[1], payload: unknown): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { reconnection: false, forceNew: true, timeout: 30_000, ...opts });
    const fail = (err: Error) => {
      socket.disconnect();
      reject(err);
    };
    socket.once('connect_error', fail);
    socket.once('connect', () => {
      socket.timeout(30_000).emit('join', payload, (err: Error | null, res: Ack) => {
        if (err) fail(err);
        else if (!res?.ok) fail(new Error(`join refused: ${JSON.stringify(res?.error)}`));
        else resolve(socket);
      });
    });
  });
}

async function side(kind: 'ours' | 'bare', n: number, concurrency: number, log: (l: string) => void): Promise<SignallingSide> {
  const host: Host = await startHost(kind === 'ours' ? 'ours' : 'bare-signalling');
  const sockets: Socket[] = [];
  try {
    // Ours: consultations and redeemed sessions first, outside the measurement.
    let sessions: { base: string; cookie: string; consultationId: string }[] = [];
    if (kind === 'ours') {
      const tc = performance.now();
      const links = await host.child.call<{ patientUrl: string }[]>('createConsultations', { n }, 600_000);
      const redeemed = await pool(links, 20, (l) => redeemLink(l.patientUrl));
      sessions = redeemed.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      log(`signalling ours: ${links.length} consultations created and ${sessions.length} links redeemed in ${round((performance.now() - tc) / 1000, 1)} s`);
    }
    const workerPid = host.workerPids[0];
    const before = await host.child.call<NodeJS.MemoryUsage>('memoryAfterGc');
    const rss0 = rssBytes(host.pid) ?? 0;
    const wrss0 = workerPid ? rssBytes(workerPid) ?? 0 : 0;

    const latencies: number[] = [];
    const errors: string[] = [];
    const u0 = await host.usage();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const results = await pool(Array.from({ length: n }, (_, i) => i), concurrency, async (i) => {
      const start = performance.now();
      const s = kind === 'ours'
        ? await connectAndJoin(host.url, {
          auth: { consultationId: sessions[i]?.consultationId }, extraHeaders: { cookie: sessions[i]?.cookie ?? '' },
        }, {})
        : await connectAndJoin(host.url, {}, { room: `room-${i}` });
      latencies[i] = performance.now() - start;
      sockets.push(s);
      return s;
    });
    const seconds = (performance.now() - t0) / 1000;
    const u1 = await host.usage();
    const c1 = process.cpuUsage(c0);
    const tenth = Math.max(1, Math.floor(n / 10));
    const done = (xs: (number | undefined)[]) => xs.filter((x): x is number => x !== undefined);
    for (const r of results) if (r.status === 'rejected' && errors.length < 3) errors.push(String((r.reason as Error)?.message ?? r.reason));
    const failed = results.filter((r) => r.status === 'rejected').length;
    await sleep(500);
    const after = await host.child.call<NodeJS.MemoryUsage>('memoryAfterGc');
    const rss1 = rssBytes(host.pid) ?? 0;
    const wrss1 = workerPid ? rssBytes(workerPid) ?? 0 : 0;
    const joined = sockets.length;
    const per = (a: number, b: number) => (joined > 0 ? (b - a) / joined / 1024 : Number.NaN);
    const r: SignallingSide = {
      clients: n,
      joined,
      failed,
      errors,
      seconds,
      joinsPerSecond: joined / seconds,
      joinLatencyP50: percentile(done(latencies), 50),
      joinLatencyP95: percentile(done(latencies), 95),
      joinLatencyFirstTenthP50: percentile(done(latencies.slice(0, tenth)), 50),
      joinLatencyLastTenthP50: percentile(done(latencies.slice(-tenth)), 50),
      serverCpu: ((u1.cpuSeconds - u0.cpuSeconds) / seconds) * 100,
      clientCpu: ((c1.user + c1.system) / 1e6 / seconds) * 100,
      heapPlusExternalPerConnection: per(before.heapUsed + before.external, after.heapUsed + after.external),
      rssPerConnection: per(rss0, rss1),
      workerRssPerConnection: workerPid ? per(wrss0, wrss1) : null,
      before,
      after,
    };
    log(`signalling ${kind}: ${joined}/${n} joined in ${round(seconds, 1)} s (${round(r.joinsPerSecond, 0)}/s, p50 ${round(r.joinLatencyP50, 0)} ms, p95 ${round(r.joinLatencyP95, 0)} ms, `
      + `first/last tenth p50 ${round(r.joinLatencyFirstTenthP50, 0)}/${round(r.joinLatencyLastTenthP50, 0)} ms; server ${round(r.serverCpu, 0)}% and clients ${round(r.clientCpu, 0)}% of a core); `
      + `heap ${round((after.heapUsed - before.heapUsed) / joined / 1024, 1)} + external ${round((after.external - before.external) / joined / 1024, 1)} = ${round(r.heapPlusExternalPerConnection, 1)} KB/conn, RSS ${round(r.rssPerConnection, 1)} KB/conn`
      + `${r.workerRssPerConnection !== null ? `, media worker RSS ${round(r.workerRssPerConnection, 1)} KB/conn` : ''}${failed ? `; ${failed} failed: ${errors.join('; ')}` : ''}`);
    return r;
  } finally {
    for (const s of sockets) s.disconnect();
    await host.close();
  }
}

export async function benchSignalling(opts: SignallingOptions): Promise<{ figures: Figure[]; ours: SignallingSide; bare: SignallingSide }> {
  const concurrency = opts.concurrency ?? 50;
  const bare = await side('bare', opts.clients, concurrency, opts.log);
  const ours = await side('ours', opts.clients, concurrency, opts.log);
  const mem = ours.heapPlusExternalPerConnection;
  const ratio = mem / bare.heapPlusExternalPerConnection;
  const n = `${ours.joined}/${bare.joined} of ${opts.clients} clients joined`;
  return {
    figures: [
      figure({
        bench: 'signalling', figure: 'memory per connection (heap+external)', unit: 'KB', ours: mem, bare: bare.heapPlusExternalPerConnection,
        target: 'ratio <= 1.5 and < 16 KB', met: ratio <= 1.5 && mem < 16, note: n,
      }),
      figure({ bench: 'signalling', figure: 'memory per connection (process RSS)', unit: 'KB', ours: ours.rssPerConnection, bare: bare.rssPerConnection, target: '' }),
      ...(ours.workerRssPerConnection !== null
        ? [figure({
          bench: 'signalling', figure: 'media worker RSS per waiting patient', unit: 'KB', ours: ours.workerRssPerConnection, bare: null, target: '',
          note: 'ours opens a consultation\'s router when its first transport is asked for (a patient preparing media while waiting), not on join; the bare server has no media',
        })]
        : []),
      figure({ bench: 'signalling', figure: 'joins per second (connect + join ack)', unit: '/s', ours: ours.joinsPerSecond, bare: bare.joinsPerSecond, target: '' }),
      figure({ bench: 'signalling', figure: 'join latency p95 (50 in flight)', unit: 'ms', ours: ours.joinLatencyP95, bare: bare.joinLatencyP95, target: '' }),
    ],
    ours,
    bare,
  };
}
