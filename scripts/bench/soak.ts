/**
 * Soak (optional: --soak[=minutes], default 30): calls created and ended every few seconds on ours
 * and on the bare baseline at the same time (a load generator each), then everything ended and
 * compared with the state before: server memory, open sockets (the worker's media ports and the
 * server's), live mediasoup objects and what the worker's dump still lists.
 *
 * Ours ends each call the way the practice does (POST /consultations/:id/end), then the peers
 * hang up; bare peers hang up (the bare server closes an empty room's router).
 */
import path from 'node:path';
import type { Child } from './lib/child.js';
import { type Host, startHost, startLoadGenerator } from './lib/host.js';
import { openSockets, rssBytes } from './lib/proc.js';
import { type Figure, figure } from './lib/report.js';
import { round, sleep } from './lib/stats.js';
import { PROFILE } from './capacity.js';

export interface SoakOptions {
  minutes: number;
  log: (line: string) => void;
  /** A new call every `everySeconds`; each lasts `lifeSeconds`. */
  everySeconds?: number;
  lifeSeconds?: number;
}

interface MediaCounts { routers: number; transports: number; producers: number; consumers: number; workerRouters: number; workerHandlers: number }

export interface Snapshot {
  at: number;
  heap: number;
  external: number;
  /** Of the heap, compiled code (only known after a GC'd snapshot). */
  code: number;
  rss: number;
  serverSockets: number;
  workerRss: number;
  workerSockets: number;
  media: MediaCounts;
  liveCalls: number;
}

async function snapshot(host: Host, liveCalls: number, gc: boolean): Promise<Snapshot> {
  const mem = gc ? await host.child.call<NodeJS.MemoryUsage & { code: number }>('memoryAfterGc') : { ...(await host.usage()).memory, code: 0 };
  const worker = host.workerPids[0] ?? -1;
  return {
    at: Date.now(),
    heap: mem.heapUsed,
    external: mem.external,
    code: mem.code,
    rss: rssBytes(host.pid) ?? 0,
    serverSockets: openSockets(host.pid) ?? 0,
    workerRss: rssBytes(worker) ?? 0,
    workerSockets: openSockets(worker) ?? 0,
    media: await host.child.call<MediaCounts>('mediaCounts'),
    liveCalls,
  };
}

interface Live { id: number; consultationId?: string; endAt: number }

async function churn(kind: 'ours' | 'bare', host: Host, lg: Child, until: number, every: number, life: number, log: (l: string) => void, samples: Snapshot[]) {
  const live: Live[] = [];
  let created = 0;
  let failed = 0;
  let nextSample = Date.now() + 60_000;
  while (Date.now() < until) {
    const tick = Date.now();
    for (const c of live.filter((l) => l.endAt <= tick)) {
      if (c.consultationId) await host.child.call('endConsultation', { id: c.consultationId }).catch(() => undefined);
      await lg.call('close', { ids: [c.id] });
      live.splice(live.indexOf(c), 1);
    }
    try {
      const links = kind === 'ours' ? await host.child.call<{ id: string; patientUrl: string; clinicianUrl: string }[]>('createConsultations', { n: 1 }) : undefined;
      const r = await lg.call<{ ids: number[]; failed: number; errors: string[] }>('add', { kind, url: host.url, links, count: 1 });
      created += r.ids.length;
      failed += r.failed;
      for (const id of r.ids) live.push({ id, consultationId: links?.[0]?.id, endAt: Date.now() + life * 1000 });
      if (r.failed && r.errors[0]) log(`soak ${kind}: a call failed: ${r.errors[0]}`);
    } catch (err) {
      failed++;
      log(`soak ${kind}: ${(err as Error).message.split('\n')[0]}`);
    }
    if (Date.now() >= nextSample) {
      nextSample += 60_000;
      const s = await snapshot(host, live.length, false);
      samples.push(s);
      log(`soak ${kind}: ${created} calls so far, ${live.length} live; server RSS ${round(s.rss / 2 ** 20, 1)} MB, heap ${round(s.heap / 2 ** 20, 1)} MB, `
        + `sockets ${s.serverSockets}/${s.workerSockets} (server/worker), routers ${s.media.routers}, transports ${s.media.transports}`);
    }
    await sleep(Math.max(0, every * 1000 - (Date.now() - tick)));
  }
  for (const c of live.splice(0)) {
    if (c.consultationId) await host.child.call('endConsultation', { id: c.consultationId }).catch(() => undefined);
    await lg.call('close', { ids: [c.id] });
  }
  return { created, failed };
}

export interface SoakSide { kind: 'ours' | 'bare'; created: number; failed: number; before: Snapshot; after: Snapshot; samples: Snapshot[] }

export async function benchSoak(opts: SoakOptions): Promise<{ figures: Figure[]; ours: SoakSide; bare: SoakSide }> {
  const every = opts.everySeconds ?? 3;
  const life = opts.lifeSeconds ?? 6;
  const [ours, bare] = await Promise.all([startHost('ours'), startHost('bare-media')]);
  const [lgOurs, lgBare] = await Promise.all([startLoadGenerator(), startLoadGenerator()]);
  try {
    await Promise.all([lgOurs.call('init', PROFILE), lgBare.call('init', PROFILE)]);
    // One call each first, so lazily made things (codecs, pools, JIT) exist in the baseline.
    for (const [kind, host, lg] of [['ours', ours, lgOurs], ['bare', bare, lgBare]] as const) {
      const links = kind === 'ours' ? await host.child.call<{ id: string; patientUrl: string; clinicianUrl: string }[]>('createConsultations', { n: 1 }) : undefined;
      await lg.call('add', { kind, url: host.url, links, count: 1 });
      await sleep(2000);
      if (links?.[0]) await host.child.call('endConsultation', { id: links[0].id });
      await lg.call('closeAll');
    }
    await sleep(3000);
    const [b0, o0] = [await snapshot(bare, 0, true), await snapshot(ours, 0, true)];
    // BENCH_HEAP_SNAPSHOTS=<dir>: V8 heap snapshots of our server before and after, to compare.
    const snapshots = process.env.BENCH_HEAP_SNAPSHOTS;
    if (snapshots) await ours.child.call('heapSnapshot', { file: path.join(snapshots, 'ours-before.heapsnapshot') });
    opts.log(`soak: ${opts.minutes} min, a call every ${every} s lasting ${life} s, on ours and bare at once`);
    const until = Date.now() + opts.minutes * 60_000;
    const oursSamples: Snapshot[] = [];
    const bareSamples: Snapshot[] = [];
    const [co, cb] = await Promise.all([
      churn('ours', ours, lgOurs, until, every, life, opts.log, oursSamples),
      churn('bare', bare, lgBare, until, every, life, opts.log, bareSamples),
    ]);
    await sleep(5000); // closes and ICE/DTLS timeouts settle
    const [b1, o1] = [await snapshot(bare, 0, true), await snapshot(ours, 0, true)];
    if (snapshots) await ours.child.call('heapSnapshot', { file: path.join(snapshots, 'ours-after.heapsnapshot') });
    const oursSide: SoakSide = { kind: 'ours', ...co, before: o0, after: o1, samples: oursSamples };
    const bareSide: SoakSide = { kind: 'bare', ...cb, before: b0, after: b1, samples: bareSamples };
    return { figures: soakFigures(oursSide, bareSide), ours: oursSide, bare: bareSide };
  } finally {
    await Promise.all([lgOurs.close().catch(() => undefined), lgBare.close().catch(() => undefined)]);
    await Promise.all([ours.close(), bare.close()]);
  }
}

function soakFigures(o: SoakSide, b: SoakSide): Figure[] {
  const mb = (n: number) => n / 2 ** 20;
  const drift = (s: SoakSide) => {
    const first = s.samples[0];
    const last = s.samples[s.samples.length - 1];
    return first && last && last !== first ? mb(last.rss - first.rss) : null;
  };
  const left = (s: SoakSide) => {
    const m0 = s.before.media;
    const m1 = s.after.media;
    return (m1.routers - m0.routers) + (m1.transports - m0.transports) + (m1.producers - m0.producers) + (m1.consumers - m0.consumers)
      + (m1.workerRouters - m0.workerRouters) + (m1.workerHandlers - m0.workerHandlers);
  };
  const sockets = (s: SoakSide) => (s.after.serverSockets - s.before.serverSockets) + (s.after.workerSockets - s.before.workerSockets);
  const growth = (s: SoakSide) => mb(s.after.heap + s.after.external - s.before.heap - s.before.external);
  const dataGrowth = (s: SoakSide) => growth(s) - mb(s.after.code - s.before.code);
  const oHeap = dataGrowth(o);
  return [
    figure({ bench: 'soak', figure: 'calls created and ended', unit: 'calls', ours: o.created, bare: b.created, target: '', ratio: null, note: `${o.failed} / ${b.failed} failed` }),
    figure({ bench: 'soak', figure: 'server RSS, end - start', unit: 'MB', ours: mb(o.after.rss - o.before.rss), bare: mb(b.after.rss - b.before.rss), target: '', ratio: null }),
    figure({
      bench: 'soak', figure: 'server RSS drift under load, last - first sample', unit: 'MB', ours: drift(o), bare: drift(b), target: '', ratio: null,
      note: 'samples each minute while calls churn; a steady climb here is a leak',
    }),
    figure({ bench: 'soak', figure: 'server heap+external growth (after GC)', unit: 'MB', ours: growth(o), bare: growth(b), target: '', ratio: null }),
    figure({
      bench: 'soak', figure: 'of which not compiled code', unit: 'MB', ours: oHeap, bare: dataGrowth(b), target: 'ours < 5 MB', met: oHeap < 5, ratio: null,
      note: `compiled code grew ${round(mb(o.after.code - o.before.code), 1)} / ${round(mb(b.after.code - b.before.code), 1)} MB: V8 optimising hot functions, not a leak`,
    }),
    figure({ bench: 'soak', figure: 'worker RSS growth', unit: 'MB', ours: mb(o.after.workerRss - o.before.workerRss), bare: mb(b.after.workerRss - b.before.workerRss), target: '', ratio: null }),
    figure({ bench: 'soak', figure: 'open sockets left (server + worker)', unit: 'sockets', ours: sockets(o), bare: sockets(b), target: 'ours 0', met: sockets(o) <= 0, ratio: null }),
    figure({ bench: 'soak', figure: 'mediasoup objects / dump entries left', unit: 'objects', ours: left(o), bare: left(b), target: 'ours 0', met: left(o) <= 0, ratio: null }),
  ];
}
