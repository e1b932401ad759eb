/**
 * Region: what PostgreSQL and Redis cost on the join path, what three nodes give against one, and
 * how long a call is without media when the node holding it is killed. Every node is a real
 * process (lib/region.ts); PostgreSQL and Redis are Debian's, on loopback.
 *
 * - join path: create a consultation, redeem both links, connect (following `moved`), join,
 *   admit, until the patient is told; one node on PostgreSQL+Redis against one on SQLite, and
 *   three nodes with the patient and the clinician entering through different nodes.
 * - joins per second: patients redeeming, connecting and joining, `concurrency` at once, spread
 *   over the entry nodes; three nodes against one, both on PostgreSQL+Redis.
 * - recovery: a two-party call of replay peers (synthetic/replay.ts) across three nodes; SIGKILL
 *   the node holding it; each side reconnects through a live node and rejoins with its session;
 *   time from the kill until both receive video again. Then the node is started again.
 */
import type { Socket } from 'socket.io-client';
import { type PeerMedia, oursJoin, replayPeers, request } from './synthetic/calls.js';
import { replayClock } from './synthetic/replay.js';
import { machineCpu, busyPercent } from './lib/proc.js';
import { type Region, type RegionNode, api, connectFollowing, createConsultation, redeem, startEngines, startRegion } from './lib/region.js';
import { type Figure, figure } from './lib/report.js';
import { median, percentile, pool, round } from './lib/stats.js';

export interface RegionOptions {
  /** Join-path samples per configuration. */
  samples: number;
  /** Patients for each joins-per-second run. */
  joins: number;
  /** Node kills for the recovery figure. */
  kills: number;
  log: (line: string) => void;
}

const until = async (what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 30_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** One join path, entering through `patientVia` and `clinicianVia`: ms from creation to the patient told of admission. */
async function joinPath(region: Region, patientVia: RegionNode, clinicianVia: RegionNode): Promise<{ ms: number; hops: number }> {
  const t0 = performance.now();
  const c = await createConsultation(patientVia);
  const sockets: Socket[] = [];
  try {
    const p = await redeem(patientVia, c.patientCode);
    const ps = await connectFollowing(region, p, patientVia);
    sockets.push(ps.socket);
    await request(ps.socket, 'join', {});
    const k = await redeem(clinicianVia, c.clinicianCode);
    const ks = await connectFollowing(region, k, clinicianVia);
    sockets.push(ks.socket);
    await request(ks.socket, 'join', {});
    const told = new Promise<void>((resolve) => ps.socket.once('admitted', () => resolve()));
    await request(ks.socket, 'admit', { id: p.participantId });
    await told;
    return { ms: performance.now() - t0, hops: ps.hops + ks.hops };
  } finally {
    for (const s of sockets) s.disconnect();
    await api(patientVia, 'POST', `/api/v1/consultations/${c.id}/end`).catch(() => undefined);
  }
}

/** Patients joining waiting rooms, `concurrency` at once: joins per second and the machine's load. */
async function joinRate(region: Region, joins: number, concurrency: number): Promise<{ perSecond: number; failed: number; busy: number }> {
  const nodes = region.alive();
  const made = [];
  for (let i = 0; i < joins; i++) made.push({ via: nodes[i % nodes.length] as RegionNode, c: await createConsultation(nodes[i % nodes.length] as RegionNode) });
  const sockets: Socket[] = [];
  const cpu0 = machineCpu();
  const t0 = performance.now();
  const results = await pool(made, concurrency, async ({ via, c }) => {
    const session = await redeem(via, c.patientCode);
    const { socket } = await connectFollowing(region, session, via);
    sockets.push(socket);
    await request(socket, 'join', {});
  });
  const seconds = (performance.now() - t0) / 1000;
  const busy = busyPercent(cpu0, machineCpu());
  for (const s of sockets) s.disconnect();
  // Ended, so that the recovery that follows finds only its own call on the nodes.
  await pool(made, 8, ({ via, c }) => api(via, 'POST', `/api/v1/consultations/${c.id}/end`));
  const failed = results.filter((r) => r.status === 'rejected').length;
  return { perSecond: (joins - failed) / seconds, failed, busy };
}

/** One side of a call: its socket and media, rejoined after a loss. */
interface Side {
  session: Awaited<ReturnType<typeof redeem>>;
  socket: Socket;
  media: PeerMedia;
  holder: RegionNode;
}

async function joinSide(region: Region, session: Side['session'], via: RegionNode): Promise<Side> {
  const { socket, node: holder } = await connectFollowing(region, session, via, { retryMs: 250, timeoutMs: 30_000 });
  const media = await oursJoin(socket, replayPeers);
  return { session, socket, media, holder };
}

const receivingVideo = async (m: PeerMedia, after = 0) => (await m.counters()).framesDecoded > after;

/** Kill the holder of a call in progress: ms until both sides receive video again (and until both rejoined). */
async function recoverOnce(region: Region, round: number, log: (line: string) => void): Promise<{ rejoinedMs: number; mediaMs: number }> {
  const nodes = region.alive();
  const [a, b] = [nodes[round % nodes.length] as RegionNode, nodes[(round + 1) % nodes.length] as RegionNode];
  const c = await createConsultation(a);
  const sides: Side[] = [];
  try {
    const patient = await joinSide(region, await redeem(a, c.patientCode), a);
    sides.push(patient);
    const clinician = await joinSide(region, await redeem(b, c.clinicianCode), b);
    sides.push(clinician);
    await request(clinician.socket, 'admit', { id: patient.session.participantId });
    await until('the call carries video both ways', async () => (await receivingVideo(patient.media)) && (await receivingVideo(clinician.media)));
    const holder = patient.holder;
    log(`region recovery #${round + 1}: call on ${holder.id} (patient entered via ${a.id}, clinician via ${b.id}); killing ${holder.id}`);

    const t0 = performance.now();
    await holder.kill();
    const rejoin = async (side: Side): Promise<{ rejoinedMs: number; mediaMs: number }> => {
      side.media.close();
      side.socket.disconnect();
      const live = region.alive();
      const fresh = await joinSide(region, side.session, live[Math.floor(Math.random() * live.length)] as RegionNode);
      Object.assign(side, fresh);
      const rejoinedMs = performance.now() - t0;
      await until('video again after the node loss', () => receivingVideo(fresh.media), 30_000);
      return { rejoinedMs, mediaMs: performance.now() - t0 };
    };
    const [p, k] = await Promise.all([rejoin(patient), rejoin(clinician)]);
    const out = { rejoinedMs: Math.max(p.rejoinedMs, k.rejoinedMs), mediaMs: Math.max(p.mediaMs, k.mediaMs) };
    log(`region recovery #${round + 1}: both rejoined after ${round0(out.rejoinedMs)} ms, video both ways after ${round0(out.mediaMs)} ms`);
    await holder.start();
    return out;
  } finally {
    for (const s of sides) {
      s.media.close();
      s.socket.disconnect();
    }
    await api(region.alive()[0] as RegionNode, 'POST', `/api/v1/consultations/${c.id}/end`).catch(() => undefined);
  }
}

const round0 = (n: number) => round(n, 0);

export async function benchRegion(opts: RegionOptions): Promise<{ figures: Figure[]; [k: string]: unknown }> {
  const { log } = opts;
  const engines = await startEngines();
  const failures: string[] = [];
  const regions: Region[] = [];
  const start = async (nodes: number, shared: boolean) => {
    const r = await startRegion({ nodes, ...(shared ? { engines } : {}) });
    regions.push(r);
    return r;
  };
  try {
    const sqlite = await start(1, false);
    const one = await start(1, true);
    const three = await start(3, true);
    log(`region: SQLite node, PostgreSQL+Redis node and three PostgreSQL+Redis nodes up`);

    // Join path, side by side: each round takes one sample of each configuration, in turn.
    const paths = { sqlite: [] as number[], one: [] as number[], three: [] as number[] };
    const samples = opts.samples;
    for (let i = 0; i < samples + 1; i++) {
      for (const [name, r] of [['sqlite', sqlite], ['one', one], ['three', three]] as const) {
        try {
          const [pv, cv] = name === 'three' ? [r.nodes[i % 3], r.nodes[(i + 1) % 3]] : [r.nodes[0], r.nodes[0]];
          const s = await joinPath(r, pv as RegionNode, cv as RegionNode);
          if (i > 0) paths[name].push(s.ms); // the first round warms each node up
        } catch (err) {
          failures.push(`join path ${name}: ${(err as Error).message}`);
        }
      }
    }
    log(`region join path p50: SQLite ${round0(median(paths.sqlite))} ms, PostgreSQL+Redis ${round0(median(paths.one))} ms, three nodes ${round0(median(paths.three))} ms`);

    const concurrency = 16;
    const rateOne = await joinRate(one, opts.joins, concurrency);
    const rateThree = await joinRate(three, opts.joins, concurrency);
    log(`region joins/s: one node ${round(rateOne.perSecond)} (machine ${round0(rateOne.busy)}% busy), three nodes ${round(rateThree.perSecond)} (${round0(rateThree.busy)}% busy)`);

    const recoveries: { rejoinedMs: number; mediaMs: number }[] = [];
    for (let i = 0; i < opts.kills; i++) {
      try {
        recoveries.push(await recoverOnce(three, i, log));
      } catch (err) {
        failures.push(`recovery #${i + 1}: ${(err as Error).message}`);
        log(`region recovery #${i + 1} failed: ${(err as Error).message}`);
        for (const n of three.nodes) if (!n.alive) await n.start().catch(() => undefined);
      }
    }

    const media = recoveries.map((r) => r.mediaMs);
    const worst = media.length ? Math.max(...media) : Number.NaN;
    const n = `n=${paths.one.length}/${paths.sqlite.length}`;
    const figures: Figure[] = [
      figure({
        bench: 'region', figure: 'join path on PostgreSQL+Redis / SQLite, p50', unit: 'ms', ours: median(paths.one), bare: median(paths.sqlite), target: '',
        note: `${n}; one node each; create, redeem both links, connect, join, admit, patient told; PostgreSQL runs with fsync off (a test cluster), so production pays a disk flush per commit more`,
      }),
      figure({ bench: 'region', figure: 'join path on PostgreSQL+Redis / SQLite, p95', unit: 'ms', ours: percentile(paths.one, 95), bare: percentile(paths.sqlite, 95), target: '' }),
      figure({
        bench: 'region', figure: 'join path across three nodes / SQLite, p50', unit: 'ms', ours: median(paths.three), bare: median(paths.sqlite), target: '',
        note: 'patient and clinician enter through different nodes; one of them is answered `moved` and connects to the holder',
      }),
      figure({
        bench: 'region', figure: 'patient joins per second, three nodes / one', unit: 'joins/s', ours: rateThree.perSecond, bare: rateOne.perSecond, target: '',
        note: `${opts.joins} patients, ${concurrency} at once, redeem + connect + join; machine ${round0(rateThree.busy)}% / ${round0(rateOne.busy)}% busy: on 2 cores three nodes share the same CPU, so this shows the region's overhead more than its headroom${rateOne.failed + rateThree.failed ? `; ${rateThree.failed}/${rateOne.failed} failed` : ''}`,
      }),
      figure({
        bench: 'region', figure: 'recovery after SIGKILL of the holder: video both ways again, worst', unit: 'ms', ours: worst, bare: null,
        // A kill after which video never came back is a miss, whatever the others measured.
        target: '< 10000 ms', met: Number.isFinite(worst) && media.length === opts.kills ? worst < 10_000 : false,
        note: `${media.length} of ${opts.kills} kills, each ${media.map(round0).join(', ')} ms; both rejoined after ${recoveries.map((r) => round0(r.rejoinedMs)).join(', ')} ms; NODE_TIMEOUT 3 s, client retry every 250 ms (the page backs off longer)`,
      }),
    ];
    return { figures, joinPath: paths, joinRate: { one: rateOne, three: rateThree }, recoveries, failures };
  } finally {
    // The replay peers ran in this process (elsewhere they run in a load generator that exits).
    replayClock.stop();
    for (const r of regions) await r.close().catch(() => undefined);
    await engines.close().catch(() => undefined);
  }
}
