/**
 * Media capacity: concurrent two-party calls through one mediasoup worker, made of synthetic
 * peers in load-generator processes of their own, stepping up the number of calls. In each window
 * ours and the bare baseline carry the same number of fresh calls at the same time, each stack
 * from its own load generator, and both workers are measured over the same seconds: a window
 * measured alone swung 15-20% with what else the machine did, which the pair shares. The peers are replay peers by default
 * (synthetic/replay.ts: werift transports sending replayed Opus- and VP8-shaped RTP, no codecs,
 * cheap enough for 40 calls on 2 cores) or, with `peers: 'wrtc'`, mediasoup-client on
 * @roamhq/wrtc encoding a synthetic camera (synthetic/media.ts, 3 calls per stack on 2 cores).
 *
 * The SFU's cost is the worker's own CPU time (getrusage through worker.getResourceUsage(), ms
 * resolution), so the load generator's CPU is not in it; the load generator's CPU is read from
 * /proc and reported, and it bounds the steps: a step that would need more CPU than the machine
 * can give the load generator is not run (said in the output), because peers that cannot keep up
 * send fewer packets and make the SFU look cheaper than it is.
 */
import os from 'node:os';
import type { Child } from './lib/child.js';
import { type Host, type Usage, startHost, startLoadGenerator } from './lib/host.js';
import { busyPercent, cpuSeconds, machineCpu } from './lib/proc.js';
import { type Figure, figure } from './lib/report.js';
import { round, sleep } from './lib/stats.js';
import type { PeerKind } from './synthetic/calls.js';
import { REPLAY_PROFILE } from './synthetic/replay.js';

export interface CapacityOptions {
  steps: number[];
  log: (line: string) => void;
  /** Windows per step; each measures ours and bare at once, on fresh calls. */
  repeats?: number;
  /** Seconds to let bandwidth estimation settle after calls come up, then to measure. */
  settleSeconds?: number;
  measureSeconds?: number;
  /** The synthetic peers: 'replay' (default) or 'wrtc'. */
  peers?: PeerKind;
}

/** The synthetic camera of wrtc peers: two simulcast layers need at least 480x270 in libwebrtc. */
export const PROFILE = { width: 480, height: 270, fps: 15, activity: 0.05 };

export interface StepResult {
  kind: 'ours' | 'bare';
  /** The step: calls asked for. */
  step: number;
  /** Calls that came up. */
  calls: number;
  failedCalls: number;
  setupMs: number;
  seconds: number;
  /** % of one core. */
  workerCpu: number;
  /** (worker CPU - the worker's idle CPU) / calls. */
  workerCpuPerCall: number;
  serverNodeCpu: number;
  loadGeneratorCpu: number;
  /** The whole machine, % of all cores. */
  machineBusy: number;
  /** CPU used by anything but the worker, the server and the load generator, % of one core. */
  otherCpu: number;
  packetsSentPerSecond: number;
  packetsReceivedPerSecond: number;
  lossPercent: number;
  framesDecodedPerSecond: number;
  receivedKbps: number;
  /** Frames the synthetic camera delivered per second in the window (falls when the load generator is starved). */
  sourceFps: number;
  /** Worker CPU ms per 1000 packets received by the peers (≈ forwarded by the SFU). */
  workerMsPer1000Packets: number;
}

interface Counters { packetsSent: number; packetsReceived: number; packetsLost: number; framesDecoded: number; bytesReceived: number; calls: number; framesPushed: number }

/** One stack in a window: its server and the load generator that carries its calls. */
interface Side { kind: 'ours' | 'bare'; host: Host; lg: Child }

interface Snapshot { usage: Usage; lgCpu: number; counters: Counters }

async function snapshot(side: Side): Promise<Snapshot> {
  const [usage, counters] = await Promise.all([side.host.usage(), side.lg.call<Counters>('counters')]);
  return { usage, counters, lgCpu: cpuSeconds(side.lg.pid) ?? 0 };
}

const workerSeconds = (host: Host, u: Usage) => u.workers.find((w) => w.pid === host.workerPids[0])?.cpuSeconds ?? 0;

/**
 * Measures both stacks over the same seconds, so that whatever else the machine does in that time
 * (another VM's load, frequency changes) weighs on both alike.
 */
async function measure(sides: Side[], calls: Map<Side, number>, seconds: number, idle: { ours: number; bare: number }): Promise<Omit<StepResult, 'step' | 'failedCalls' | 'setupMs'>[]> {
  const m0 = machineCpu();
  const s0 = await Promise.all(sides.map(snapshot));
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const s1 = await Promise.all(sides.map(snapshot));
  const dt = (performance.now() - t0) / 1000;
  const m1 = machineCpu();
  const perCore = (a: number, b: number) => ((b - a) / dt) * 100;
  const rows = sides.map((side, i) => {
    const a = s0[i] as Snapshot;
    const z = s1[i] as Snapshot;
    const n = calls.get(side) ?? 0;
    const w = workerSeconds(side.host, z.usage) - workerSeconds(side.host, a.usage);
    const received = z.counters.packetsReceived - a.counters.packetsReceived;
    const lost = z.counters.packetsLost - a.counters.packetsLost;
    const workerCpu = (w / dt) * 100;
    return {
      kind: side.kind,
      calls: n,
      seconds: dt,
      workerCpu,
      workerCpuPerCall: n > 0 ? (workerCpu - idle[side.kind]) / n : 0,
      serverNodeCpu: perCore(a.usage.cpuSeconds, z.usage.cpuSeconds),
      loadGeneratorCpu: perCore(a.lgCpu, z.lgCpu),
      machineBusy: busyPercent(m0, m1),
      otherCpu: 0,
      packetsSentPerSecond: (z.counters.packetsSent - a.counters.packetsSent) / dt,
      packetsReceivedPerSecond: received / dt,
      lossPercent: received + lost > 0 ? (lost / (received + lost)) * 100 : 0,
      framesDecodedPerSecond: (z.counters.framesDecoded - a.counters.framesDecoded) / dt,
      receivedKbps: ((z.counters.bytesReceived - a.counters.bytesReceived) * 8) / dt / 1000,
      sourceFps: (z.counters.framesPushed - a.counters.framesPushed) / dt,
      workerMsPer1000Packets: received > 0 ? (w * 1000 * 1000) / received : Number.NaN,
    };
  });
  // What the machine spent on anything but these workers, servers and load generators (% of a core).
  const ours = rows.reduce((n, r) => n + r.workerCpu + r.serverNodeCpu + r.loadGeneratorCpu, 0);
  const other = Math.max(0, perCore(m0.busy, m1.busy) - ours);
  for (const r of rows) r.otherCpu = other;
  return rows;
}

/** One window: `calls` fresh calls on each stack at once, settled, measured together, ended. */
async function runWindow(sides: Side[], calls: number, settle: number, seconds: number, idle: { ours: number; bare: number }): Promise<StepResult[]> {
  const links = new Map<Side, { id: string; patientUrl: string; clinicianUrl: string }[]>();
  try {
    const added = await Promise.all(sides.map(async (side) => {
      const l = side.kind === 'ours' ? await side.host.child.call<{ id: string; patientUrl: string; clinicianUrl: string }[]>('createConsultations', { n: calls }) : undefined;
      if (l) links.set(side, l);
      const a = await side.lg.call<{ calls: number; failed: number; errors: string[]; ms: number }>('add', { kind: side.kind, url: side.host.url, links: l, count: calls });
      if (a.calls === 0) throw new Error(`no ${side.kind} call came up: ${a.errors.join('; ')}`);
      return a;
    }));
    await sleep(settle * 1000);
    const up = new Map(sides.map((side, i) => [side, added[i]?.calls ?? 0]));
    const rows = await measure(sides, up, seconds, idle);
    return rows.map((m, i) => ({ ...m, step: calls, failedCalls: added[i]?.failed ?? 0, setupMs: added[i]?.ms ?? 0 }));
  } finally {
    await Promise.all(sides.map(async (side) => {
      await side.lg.call('closeAll').catch(() => undefined);
      for (const l of links.get(side) ?? []) await side.host.child.call('endConsultation', { id: l.id }).catch(() => undefined);
    }));
  }
}

export interface CapacityResult {
  figures: Figure[];
  peers: PeerKind;
  /** The media the peers send: the wrtc camera, or the replay peers' rates. */
  profile: typeof PROFILE | typeof REPLAY_PROFILE;
  /** The worker's CPU with no calls (% of a core), subtracted before dividing by calls. */
  idleWorkerCpu: { ours: number; bare: number };
  /** The load generator's CPU with its synthetic camera and microphone running and no calls. */
  loadGeneratorIdleCpu: number;
  /** Every measurement window. */
  windows: StepResult[];
  /** Per step and stack: the mean of its windows. */
  steps: StepResult[];
  stoppedAt: number | null;
  stopReason: string | null;
}

function meanOf(rs: StepResult[]): StepResult {
  const first = rs[0] as StepResult;
  const out = { ...first } as Record<string, unknown>;
  for (const k of Object.keys(first) as (keyof StepResult)[]) {
    if (typeof first[k] === 'number') out[k] = rs.reduce((n, r) => n + (r[k] as number), 0) / rs.length;
  }
  return out as unknown as StepResult;
}

async function idleCpu(host: Host, seconds: number): Promise<number> {
  const a = workerSeconds(host, await host.usage());
  const t = performance.now();
  await sleep(seconds * 1000);
  const b = workerSeconds(host, await host.usage());
  return ((b - a) / ((performance.now() - t) / 1000)) * 100;
}

export async function benchCapacity(opts: CapacityOptions): Promise<CapacityResult> {
  const peers = opts.peers ?? 'replay';
  // Replay peers have no bandwidth estimation to wait for, only the first key frames.
  const settle = opts.settleSeconds ?? (peers === 'replay' ? 2 : 4);
  const seconds = opts.measureSeconds ?? (peers === 'replay' ? 6 : 10);
  const repeats = Math.max(1, opts.repeats ?? 4);
  const fps = peers === 'replay' ? REPLAY_PROFILE.fps : PROFILE.fps;
  const media = peers === 'replay'
    ? `replay peers (werift, no codecs): VP8-shaped RTP in two simulcast layers of ${REPLAY_PROFILE.layers.map((l) => l.kbps).join(' + ')} kbit/s at ${REPLAY_PROFILE.fps} fps, `
      + `Opus-shaped ${REPLAY_PROFILE.opusBytes}-byte packets every 20 ms; receivers forward-count without decrypting`
    : `wrtc peers: synthetic camera ${PROFILE.width}x${PROFILE.height} at ${PROFILE.fps} fps, two simulcast layers, plus Opus`;
  const cores = os.availableParallelism();
  // Each stack has a load generator of its own (one Node thread each); together they may use at
  // most three quarters of the machine, so the workers and servers keep the rest.
  const loadGenBudget = Math.min(90, (cores * 100 * 0.75) / 2);
  const windows: StepResult[] = [];
  const steps: StepResult[] = [];
  let stoppedAt: number | null = null;
  let stopReason: string | null = null;
  let idle = { ours: 0, bare: 0 };
  let loadGenIdleOut = 0;

  const [ours, bare] = await Promise.all([startHost('ours'), startHost('bare-media')]);
  const lgs = await Promise.all([startLoadGenerator(), startLoadGenerator()]);
  try {
    await Promise.all(lgs.map((lg) => lg.call('init', { ...PROFILE, peers })));
    const lg0 = lgs.map((lg) => cpuSeconds(lg.pid) ?? 0);
    const tIdle = performance.now();
    const [io, ib] = await Promise.all([idleCpu(ours, 4), idleCpu(bare, 4)]);
    idle = { ours: io, bare: ib };
    // A load generator with its sources running and no calls: the cost that does not grow with calls.
    const loadGenIdle = Math.max(...lgs.map((lg, i) => (((cpuSeconds(lg.pid) ?? 0) - (lg0[i] ?? 0)) / ((performance.now() - tIdle) / 1000)) * 100));
    loadGenIdleOut = loadGenIdle;
    opts.log(`capacity: idle worker CPU ${round(io, 3)}% (ours) / ${round(ib, 3)}% (bare) of a core, load generator ${round(loadGenIdle, 1)}%; ${media}; both stacks measured in the same windows, each with a load generator of its own`);
    // A load generator's CPU as a line through its last two points (no calls counts as one).
    let last = { calls: 0, cpu: loadGenIdle };
    let loadGenPerCall = 0;
    const predict = (calls: number) => last.cpu + loadGenPerCall * (calls - last.calls);
    // A first call on a fresh worker costs more (its first router, transports and buffers): one
    // paired window that is not counted, so that it does not land in the first step.
    // The load generators swap stacks from one window to the next.
    const sidesFor = (window: number): Side[] => [
      { kind: 'ours', host: ours, lg: lgs[window % 2] as Child }, { kind: 'bare', host: bare, lg: lgs[(window + 1) % 2] as Child },
    ];
    const warm = await runWindow(sidesFor(0), 1, settle, 2, idle);
    opts.log(`capacity: warm-up window (not counted), 1 call: worker per call ${round(warm[0]?.workerCpuPerCall ?? 0, 3)}% / ${round(warm[1]?.workerCpuPerCall ?? 0, 3)}% of a core`);
    let previous = 0;
    for (const wanted of opts.steps) {
      let n = wanted;
      let capped = false;
      if (predict(n) > loadGenBudget) {
        const affordable = last.calls + Math.floor((loadGenBudget - last.cpu) / loadGenPerCall);
        stoppedAt = wanted;
        stopReason = `${wanted} calls per stack would need about ${round(predict(wanted), 0)}% of a core for each stack's load generator `
          + `(${round(last.cpu, 0)}% at ${last.calls} calls plus ${round(loadGenPerCall, 1)}% of a core per call), more than the ${round(loadGenBudget, 0)}% each may take `
          + `on this machine's ${cores} cores while leaving room for the SFUs`;
        if (affordable <= previous) {
          opts.log(`capacity: stopping: ${stopReason}`);
          break;
        }
        n = affordable;
        capped = true;
        stopReason += `; measured ${n} calls instead and stopped there`;
        opts.log(`capacity: ${stopReason}`);
      }
      const stepWindows: StepResult[] = [];
      let failure: string | undefined;
      for (let r = 0; r < repeats && !failure; r++) {
        let pair: StepResult[];
        try {
          pair = await runWindow(sidesFor(r), n, settle, seconds, idle);
        } catch (err) {
          failure = `at ${n} calls: ${(err as Error).message.split('\n')[0]}`;
          break;
        }
        stepWindows.push(...pair);
        windows.push(...pair);
        const [o, b] = pair as [StepResult, StepResult];
        opts.log(`capacity ${n} calls, window ${r + 1}: worker per call ${round(o.workerCpuPerCall, 3)}% / ${round(b.workerCpuPerCall, 3)}% of a core (ours / bare, ratio ${round(o.workerCpuPerCall / b.workerCpuPerCall, 3)}), `
          + `${round(o.workerMsPer1000Packets, 1)} / ${round(b.workerMsPer1000Packets, 1)} ms per 1000 packets, server node ${round(o.serverNodeCpu, 1)}% / ${round(b.serverNodeCpu, 1)}%, `
          + `load generators ${round(o.loadGeneratorCpu, 0)}% / ${round(b.loadGeneratorCpu, 0)}%, machine ${round(o.machineBusy, 0)}% busy (${round(o.otherCpu, 0)}% of a core not ours), `
          + `${round(o.packetsReceivedPerSecond, 0)} / ${round(b.packetsReceivedPerSecond, 0)} pkt/s received, loss ${round(o.lossPercent, 3)}% / ${round(b.lossPercent, 3)}%`
          + `${o.failedCalls || b.failedCalls ? `, failed calls ${o.failedCalls} / ${b.failedCalls}` : ''}`);
      }
      if (failure) {
        stoppedAt = n;
        stopReason = `stopped: ${failure}`;
        opts.log(`capacity: ${stopReason}`);
        break;
      }
      for (const kind of ['ours', 'bare'] as const) steps.push(meanOf(stepWindows.filter((w) => w.kind === kind)));
      previous = n;
      const lgNow = Math.max(...stepWindows.map((w) => w.loadGeneratorCpu));
      loadGenPerCall = Math.max(0.1, (lgNow - last.cpu) / Math.max(1, n - last.calls));
      last = { calls: n, cpu: lgNow };
      const busiest = stepWindows.reduce((a, w) => (w.machineBusy > a.machineBusy ? w : a));
      const slowest = Math.min(...stepWindows.map((w) => w.sourceFps));
      if (capped) break;
      if (slowest < fps * 0.8) {
        stoppedAt = opts.steps[opts.steps.indexOf(wanted) + 1] ?? null;
        stopReason = `stopped after ${n} calls: the synthetic ${peers === 'replay' ? 'peers\' clock' : 'camera'} fell behind (${round(slowest, 1)} of ${fps} fps) with the machine `
          + `${round(busiest.machineBusy, 0)}% busy (${round(busiest.otherCpu, 0)}% of a core used by other processes), so a bigger step would measure the load generator, not the SFU`;
        opts.log(`capacity: ${stopReason}`);
        break;
      }
    }
  } finally {
    await Promise.all(lgs.map((lg) => lg.close().catch(() => undefined)));
    await Promise.all([ours.close(), bare.close()]);
  }
  return { figures: capacityFigures(steps, windows, stopReason, peers), peers, profile: peers === 'replay' ? REPLAY_PROFILE : PROFILE, idleWorkerCpu: idle, loadGeneratorIdleCpu: loadGenIdleOut, windows, steps, stoppedAt, stopReason };
}

function capacityFigures(results: StepResult[], windows: StepResult[], stopReason: string | null, peers: PeerKind): Figure[] {
  const figures: Figure[] = [];
  const steps = [...new Set(results.map((r) => r.step))].sort((a, b) => a - b);
  const at = (kind: 'ours' | 'bare', n: number) => results.find((r) => r.kind === kind && r.step === n);
  for (const n of steps) {
    const o = at('ours', n);
    const b = at('bare', n);
    if (!o || !b) continue;
    const ratio = o.workerCpuPerCall / b.workerCpuPerCall;
    const range = (kind: 'ours' | 'bare') => {
      const xs = windows.filter((w) => w.kind === kind && w.step === n).map((w) => w.workerCpuPerCall);
      return `${round(Math.min(...xs), 2)}-${round(Math.max(...xs), 2)}`;
    };
    // Windows come in pairs (ours, bare) measured over the same seconds.
    const here = windows.filter((w) => w.step === n);
    const pairRatios = here.flatMap((w, i) => (w.kind === 'ours' && here[i + 1]?.kind === 'bare' ? [w.workerCpuPerCall / (here[i + 1] as StepResult).workerCpuPerCall] : []));
    figures.push(figure({
      bench: 'capacity', figure: `worker CPU per call @ ${n} call${n === 1 ? '' : 's'}`, unit: '% core', ours: o.workerCpuPerCall, bare: b.workerCpuPerCall,
      target: 'ratio <= 1.05', met: ratio <= 1.05,
      note: `mean of ${pairRatios.length} paired windows: per call ${range('ours')} / ${range('bare')}, ratio ${round(Math.min(...pairRatios), 2)}-${round(Math.max(...pairRatios), 2)} window by window; ${round(o.packetsReceivedPerSecond, 0)} / ${round(b.packetsReceivedPerSecond, 0)} packets/s received; worker ms per 1000 packets ${round(o.workerMsPer1000Packets, 2)} / ${round(b.workerMsPer1000Packets, 2)}; load generator ${round(o.loadGeneratorCpu, 0)}% / ${round(b.loadGeneratorCpu, 0)}% of a core; other processes ${round(o.otherCpu, 0)}% / ${round(b.otherCpu, 0)}% of a core`,
    }));
  }
  const worstLoss = (kind: 'ours' | 'bare') => Math.max(0, ...windows.filter((r) => r.kind === kind).map((r) => r.lossPercent));
  const ol = worstLoss('ours');
  figures.push(figure({ bench: 'capacity', figure: 'packet loss, worst window', unit: '%', ours: ol, bare: worstLoss('bare'), target: 'ours < 0.1%', met: ol < 0.1, ratio: null }));
  const first = steps[0];
  const last = steps[steps.length - 1];
  if (first !== undefined && last !== undefined && last !== first) {
    const growth = (kind: 'ours' | 'bare') => {
      const a = at(kind, first);
      const z = at(kind, last);
      return a && z ? z.workerCpuPerCall / a.workerCpuPerCall : Number.NaN;
    };
    figures.push(figure({
      bench: 'capacity', figure: `per-call cost @ ${last} / @ ${first} calls`, unit: 'x', ours: growth('ours'), bare: growth('bare'), target: '',
      note: '1.0 = cost grows linearly with calls; below 1 = cheaper per call as calls are added',
    }));
    const o = at('ours', last);
    const b = at('bare', last);
    if (o && b) {
      figures.push(figure({ bench: 'capacity', figure: `load generator CPU @ ${last} calls`, unit: '% core', ours: o.loadGeneratorCpu, bare: b.loadGeneratorCpu, target: '', ratio: null }));
    }
  }
  figures.push(figure({
    bench: 'capacity', figure: 'largest step measured', unit: 'calls', ours: last ?? 0, bare: last ?? 0, target: '', ratio: null,
    note: [`${peers} peers`, stopReason].filter(Boolean).join('; '),
  }));
  return figures;
}
