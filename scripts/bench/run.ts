/**
 * `npm run bench`: every benchmark, each figure measured side by side in the same run with a
 * bare baseline (socket.io + mediasoup + mediasoup-client used directly, scripts/bench/bare/).
 * Prints a table and writes bench-results/<timestamp>.json. Missing a target never fails the
 * run; only a crash does.
 *
 *   npx tsx scripts/bench/run.ts [--only=page,join,capacity,signalling,region,poor,p2p] [--quick]
 *        [--consultations=10] [--steps=1,5,10,20,40] [--repeats=4] [--peers=replay|wrtc] [--clients=2000] [--soak[=30]]
 *
 * Sized for 2 cores; scripts/bench/README.md says what each figure means and what limits it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchCapacity } from './capacity.js';
import { benchJoin } from './join.js';
import { benchPageWeight } from './pageweight.js';
import { benchPoor } from './poor.js';
import { benchP2p } from './p2p.js';
import { benchRegion } from './region.js';
import { benchSignalling } from './signalling.js';
import { benchSoak } from './soak.js';
import { checkFairness } from './fairness.js';
import { benchDir } from './lib/host.js';
import { machineCpu } from './lib/proc.js';
import { type Figure, table } from './lib/report.js';

// `--soak` alone means the default 30 minutes (parseArgs wants a value for a string option).
const argv = process.argv.slice(2).map((a) => (a === '--soak' ? '--soak=30' : a));
const { values } = parseArgs({
  args: argv,
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    consultations: { type: 'string' },
    steps: { type: 'string' },
    clients: { type: 'string' },
    repeats: { type: 'string' },
    peers: { type: 'string' },
    soak: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  allowPositionals: false,
  strict: true,
});

const soakArg = values.soak;

if (values.help) {
  console.log('usage: tsx scripts/bench/run.ts [--only=page,join,capacity,signalling,region,poor,p2p] [--quick] [--consultations=N] [--steps=1,5,10] [--repeats=N] [--peers=replay|wrtc] [--clients=N] [--soak[=minutes]]');
  process.exit(0);
}

const all = ['page', 'join', 'capacity', 'signalling', 'region', 'poor', 'p2p'] as const;
type BenchName = (typeof all)[number] | 'soak';
const selected: BenchName[] = values.only
  ? (values.only.split(',').map((s) => s.trim()).filter(Boolean) as BenchName[])
  : [...all];
if (soakArg && !selected.includes('soak')) selected.push('soak');
for (const s of selected) {
  if (![...all, 'soak'].includes(s)) {
    console.error(`unknown benchmark "${s}" (known: ${[...all, 'soak'].join(', ')})`);
    process.exit(2);
  }
}

const quick = values.quick ?? false;
const consultations = Number(values.consultations ?? (quick ? 3 : 10));
const steps = (values.steps ?? (quick ? '1,5' : '1,5,10,20,40')).split(',').map(Number).filter((n) => n > 0);
const clients = Number(values.clients ?? (quick ? 300 : 2000));
const repeats = Number(values.repeats ?? (quick ? 1 : 4));
const soakMinutes = Number(soakArg ?? 30);
for (const [name, n] of Object.entries({ consultations, clients, repeats, soak: soakMinutes })) {
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number`);
    process.exit(2);
  }
}
const peers = values.peers ?? 'replay';
if (peers !== 'replay' && peers !== 'wrtc') {
  console.error('--peers must be replay (werift, replayed RTP, no codecs) or wrtc (mediasoup-client on @roamhq/wrtc, real encoders)');
  process.exit(2);
}
if (steps.length === 0) {
  console.error('--steps must list positive numbers of calls, e.g. 1,5,10');
  process.exit(2);
}

const started = new Date();
const t0 = performance.now();
const log = (line: string) => {
  const s = ((performance.now() - t0) / 1000).toFixed(0).padStart(4);
  console.log(`[${s}s] ${line}`);
};

const figures: Figure[] = [];
const details: Record<string, unknown> = {};
const crashes: { bench: string; error: string }[] = [];

log(`openconsult benchmarks: ${selected.join(', ')} on ${os.availableParallelism()} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

const benches: Record<BenchName, () => Promise<{ figures: Figure[] }>> = {
  page: () => benchPageWeight({ log }),
  join: () => benchJoin({ consultations, log }),
  capacity: () => benchCapacity({ steps, repeats, peers, log }),
  signalling: () => benchSignalling({ clients, log }),
  region: () => benchRegion({ samples: quick ? 5 : 20, joins: quick ? 40 : 150, kills: quick ? 1 : 3, log }),
  soak: () => benchSoak({ minutes: soakMinutes, log }),
  poor: () => benchPoor({ log }),
  p2p: () => benchP2p({ quick, log }),
};

const fairness = await checkFairness();
for (const p of fairness) log(`WARNING: the bare baseline may no longer match the product: ${p} (update scripts/bench/bare/)`);

for (const name of selected) {
  const start = performance.now();
  const cpu0 = machineCpu();
  log(`--- ${name}`);
  try {
    const result = await benches[name]();
    figures.push(...result.figures);
    const { figures: _figures, ...rest } = result as { figures: Figure[] } & Record<string, unknown>;
    const cpu1 = machineCpu();
    const busy = ((cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total)) * 100;
    details[name] = { ...rest, seconds: Math.round((performance.now() - start) / 1000), machineBusyPercent: busy, loadAverageAfter: os.loadavg() };
    log(`${name}: the machine was ${busy.toFixed(0)}% busy on average (all processes, benchmark included); load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } catch (err) {
    const message = err instanceof Error ? err.stack ?? err.message : String(err);
    crashes.push({ bench: name, error: message });
    log(`${name} crashed: ${message}`);
  }
  log(`${name} took ${((performance.now() - start) / 1000).toFixed(0)} s`);
}

console.log('');
console.log(table(figures));
for (const f of figures) if (f.note) console.log(`  ${f.bench} / ${f.figure}: ${f.note}`);

const outDir = path.resolve(benchDir, '..', '..', 'bench-results');
await mkdir(outDir, { recursive: true });
const file = path.join(outDir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
await writeFile(file, `${JSON.stringify({
  startedAt: started.toISOString(),
  seconds: Math.round((performance.now() - t0) / 1000),
  machine: {
    cores: os.availableParallelism(), memoryBytes: os.totalmem(), node: process.versions.node,
    loadAverageAtStart: os.loadavg(), cpu: os.cpus()[0]?.model,
  },
  options: { selected, quick, consultations, steps, repeats, peers, clients, soakMinutes: selected.includes('soak') ? soakMinutes : null },
  baselineMismatches: fairness,
  figures,
  details,
  crashes,
}, null, 2)}\n`);
console.log(`\nresults: ${path.relative(process.cwd(), file)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
if (crashes.length > 0) {
  console.log(`crashed: ${crashes.map((c) => c.bench).join(', ')}`);
  process.exitCode = 1;
}
// Everything is printed and written: a socket a benchmark's peers left open must not keep the run alive.
process.exit();
