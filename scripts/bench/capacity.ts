/**
 * Media capacity: concurrent two-party calls through one mediasoup worker, made of synthetic
 * peers in a load-generator process of its own, stepping up the number of calls. Each step runs on
 * ours and on the bare baseline in turn, with fresh calls. The peers are replay peers by default
 * (synthetic/replay.ts: werift transports sending replayed Opus- and VP8-shaped RTP, no codecs,
 * cheap enough for 40 calls on 2 cores) or, with `peers: 'wrtc'`, mediasoup-client on
 * @roamhq/wrtc encoding a synthetic camera (synthetic/media.ts, 5-8 calls on 2 cores).
 *
 * The SFU's cost is the worker's own CPU time (getrusage through worker.getResourceUsage(), ms
 * resolution), so the load generator's CPU is not in it; the load generator's CPU is read from
 * /proc and reported, and it bounds the steps: a step that would need more CPU than the machine
 * can give the load generator is not run (said in the output), because peers that cannot keep up
 * send fewer packets and make the SFU look cheaper than it is.
 */
import os from 'node:os';
import type { Child } from './lib/child.js';
import { type Host, startHost, startLoadGenerator } from './lib/host.js';
import { cpuSeconds, machineCpu } from './lib/proc.js';
import { type Figure, figure } from './lib/report.js';
import { round, sleep } from './lib/stats.js';
import type { PeerKind } from './synthetic/calls.js';
import { REPLAY_PROFILE } from './synthetic/replay.js';

export interface CapacityOptions {
  steps: number[];
  log: (line: string) => void;
  /** Windows per stack and step, taken in ABBA order (ours, bare, bare, ours) against drift. */
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

async function measure(kind: 'ours' | 'bare', host: Host, lg: Child, calls: number, seconds: number, idle: number): Promise<Omit<StepResult, 'step' | 'failedCalls' | 'setupMs'>> {
  const workerPid = host.workerPids[0];
  const u0 = await host.usage();
  const l0 = cpuSeconds(lg.pid) ?? 0;
  const m0 = machineCpu();
  const c0 = await lg.call<Counters>('counters');
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const u1 = await host.usage();
  const l1 = cpuSeconds(lg.pid) ?? 0;
  const m1 = machineCpu();
  const c1 = await lg.call<Counters>('counters');
  const dt = (performance.now() - t0) / 1000;
  const w0 = u0.workers.find((w) => w.pid === workerPid)?.cpuSeconds ?? 0;
  const w1 = u1.workers.find((w) => w.pid === workerPid)?.cpuSeconds ?? 0;
  const workerCpu = ((w1 - w0) / dt) * 100;
  const received = c1.packetsReceived - c0.packetsReceived;
  const lost = c1.packetsLost - c0.packetsLost;
  return {
    kind,
    calls,
    seconds: dt,
    workerCpu,
    workerCpuPerCall: calls > 0 ? (workerCpu - idle) / calls : 0,
    serverNodeCpu: ((u1.cpuSeconds - u0.cpuSeconds) / dt) * 100,
    loadGeneratorCpu: ((l1 - l0) / dt) * 100,
    machineBusy: ((m1.busy - m0.busy) / (m1.total - m0.total)) * 100,
    otherCpu: Math.max(0, ((m1.busy - m0.busy) / dt) * 100 - workerCpu - ((u1.cpuSeconds - u0.cpuSeconds) / dt) * 100 - ((l1 - l0) / dt) * 100),
    packetsSentPerSecond: (c1.packetsSent - c0.packetsSent) / dt,
    packetsReceivedPerSecond: received / dt,
    lossPercent: received + lost > 0 ? (lost / (received + lost)) * 100 : 0,
    framesDecodedPerSecond: (c1.framesDecoded - c0.framesDecoded) / dt,
    receivedKbps: ((c1.bytesReceived - c0.bytesReceived) * 8) / dt / 1000,
    sourceFps: (c1.framesPushed - c0.framesPushed) / dt,
    workerMsPer1000Packets: received > 0 ? ((w1 - w0) * 1000 * 1000) / received : Number.NaN,
  };
}

async function runStep(kind: 'ours' | 'bare', host: Host, lg: Child, calls: number, settle: number, seconds: number, idle: number): Promise<StepResult> {
  const links = kind === 'ours' ? await host.child.call<{ id: string; patientUrl: string; clinicianUrl: string }[]>('createConsultations', { n: calls }) : undefined;
  const added = await lg.call<{ calls: number; failed: number; errors: string[]; ms: number }>('add', { kind, url: host.url, links, count: calls });
  try {
    if (added.calls === 0) throw new Error(`no call came up: ${added.errors.join('; ')}`);
    await sleep(settle * 1000);
    const m = await measure(kind, host, lg, added.calls, seconds, idle);
    return { ...m, step: calls, failedCalls: added.failed, setupMs: added.ms };
  } finally {
    await lg.call('closeAll');
    for (const l of links ?? []) await host.child.call('endConsultation', { id: l.id }).catch(() => undefined);
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
  const pid = host.workerPids[0];
  const a = (await host.usage()).workers.find((w) => w.pid === pid)?.cpuSeconds ?? 0;
  const t = performance.now();
  await sleep(seconds * 1000);
  const b = (await host.usage()).workers.find((w) => w.pid === pid)?.cpuSeconds ?? 0;
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
  // The load generator may use at most this much of the machine (in % of one core); the rest is
  // for the worker and the server's Node process.
  const loadGenBudget = cores * 100 * 0.75;
  const windows: StepResult[] = [];
  const steps: StepResult[] = [];
  let stoppedAt: number | null = null;
  let stopReason: string | null = null;
  let idle = { ours: 0, bare: 0 };
  let loadGenIdleOut = 0;

  const [ours, bare] = await Promise.all([startHost('ours'), startHost('bare-media')]);
  const lg = await startLoadGenerator();
  try {
    await lg.call('init', { ...PROFILE, peers });
    const lg0 = cpuSeconds(lg.pid) ?? 0;
    const tIdle = performance.now();
    const [io, ib] = await Promise.all([idleCpu(ours, 4), idleCpu(bare, 4)]);
    idle = { ours: io, bare: ib };
    // The load generator with its sources running and no calls: the cost that does not grow with calls.
    const loadGenIdle = (((cpuSeconds(lg.pid) ?? 0) - lg0) / ((performance.now() - tIdle) / 1000)) * 100;
    loadGenIdleOut = loadGenIdle;
    opts.log(`capacity: idle worker CPU ${round(io, 3)}% (ours) / ${round(ib, 3)}% (bare) of a core, load generator ${round(loadGenIdle, 1)}%; ${media}`);
    // The load generator's CPU as a line through its last two points (no calls counts as one).
    let last = { calls: 0, cpu: loadGenIdle };
    let loadGenPerCall = 0;
    const predict = (calls: number) => last.cpu + loadGenPerCall * (calls - last.calls);
    let previous = 0;
    for (const wanted of opts.steps) {
      let n = wanted;
      let capped = false;
      if (predict(n) > loadGenBudget) {
        const affordable = last.calls + Math.floor((loadGenBudget - last.cpu) / loadGenPerCall);
        stoppedAt = wanted;
        stopReason = `${wanted} calls would need about ${round(predict(wanted) / 100, 1)} cores for the load generator `
          + `(${round(last.cpu, 0)}% at ${last.calls} calls plus ${round(loadGenPerCall, 1)}% of a core per call), more than the ${round(loadGenBudget / 100, 1)} of this machine's ${cores} it may take `
          + `while leaving room for the SFU`;
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
        const order: ('ours' | 'bare')[] = r % 2 === 0 ? ['ours', 'bare'] : ['bare', 'ours'];
        for (const kind of order) {
          let w: StepResult;
          try {
            w = await runStep(kind, kind === 'ours' ? ours : bare, lg, n, settle, seconds, idle[kind]);
          } catch (err) {
            failure = `${kind} at ${n} calls: ${(err as Error).message.split('\n')[0]}`;
            break;
          }
          stepWindows.push(w);
          windows.push(w);
          opts.log(`capacity ${kind} ${w.calls} calls${w.failedCalls ? ` (${w.failedCalls} failed)` : ''}: worker ${round(w.workerCpu, 2)}% `
            + `(${round(w.workerCpuPerCall, 2)}%/call, ${round(w.workerMsPer1000Packets, 1)} ms per 1000 packets), server node ${round(w.serverNodeCpu, 1)}%, `
            + `load generator ${round(w.loadGeneratorCpu, 0)}%, machine ${round(w.machineBusy, 0)}% busy (${round(w.otherCpu, 0)}% of a core not ours), ${round(w.packetsReceivedPerSecond, 0)} pkt/s received, `
            + `loss ${round(w.lossPercent, 3)}%, ${round(w.receivedKbps, 0)} kbit/s, source ${round(w.sourceFps, 1)} fps`);
        }
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
    await lg.close().catch(() => undefined);
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
    figures.push(figure({
      bench: 'capacity', figure: `worker CPU per call @ ${n} call${n === 1 ? '' : 's'}`, unit: '% core', ours: o.workerCpuPerCall, bare: b.workerCpuPerCall,
      target: 'ratio <= 1.05', met: ratio <= 1.05,
      note: `mean of windows ranging ${range('ours')} / ${range('bare')}; ${round(o.packetsReceivedPerSecond, 0)} / ${round(b.packetsReceivedPerSecond, 0)} packets/s received; worker ms per 1000 packets ${round(o.workerMsPer1000Packets, 2)} / ${round(b.workerMsPer1000Packets, 2)}; load generator ${round(o.loadGeneratorCpu, 0)}% / ${round(b.loadGeneratorCpu, 0)}% of a core; other processes ${round(o.otherCpu, 0)}% / ${round(b.otherCpu, 0)}% of a core`,
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
