/**
 * A region on this machine (design.md 2.3): Debian's PostgreSQL and Redis as child processes,
 * N openconsult nodes as real processes (each its own NODE_ID, port, data folder and media port
 * range) and nginx from deploy/region/nginx.conf in front of them. One region per test file:
 * starting the engines costs seconds. Nodes can be killed (SIGKILL), drained (SIGTERM) and
 * started again on the same port, data folder and ports; `holders()` says which node carries a
 * call's media, from the UDP ports bound in each node's range (read from /proc, so it depends on
 * nothing inside the service).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Balancer, startBalancer } from './balancer.js';
import { type Engine, createDatabase, startPostgres, startRedis } from './engines.js';
import { type ServiceProcess, freePort, startService } from './process.js';
import { TEST_API_KEY, apiAt, outboxAt } from './server.js';

/**
 * Media port ranges below Linux's ephemeral range (32768-60999), so that no browser's own UDP
 * socket can be taken for a node's. 100 ports a node: a call takes a few.
 */
const RTC_BASE = 31_100;
const RTC_PER_NODE = 100;

export interface RegionNode {
  readonly id: string;
  readonly port: number;
  /** Its own address, bypassing the balancer. */
  readonly url: string;
  readonly rtc: { min: number; max: number };
  /** Whether its process runs (started and not yet exited). */
  readonly running: boolean;
  start(): Promise<void>;
  /** SIGKILL: gone at once, with nothing said to anyone; resolves once it exited. */
  kill(): Promise<void>;
  /** SIGTERM: the node drains (its calls go on for DRAIN_GRACE, then move) and exits when empty. */
  terminate(): void;
  /** Resolves with the exit code (or signal) of the current process. */
  exited(): Promise<number | NodeJS.Signals | null>;
  /** /readyz on this node: status and body. */
  ready(): Promise<{ status: number; body: { status: string; checks: Record<string, boolean> } }>;
  /** Everything each of its processes wrote so far. */
  output(): string;
}

export interface Region {
  /** The balancer's address: browsers and the practice API go there (PUBLIC_URL). */
  url: string;
  nodes: RegionNode[];
  balancer: Balancer;
  postgres: Engine;
  redis: Engine;
  node(id: string): RegionNode;
  /** The practice API through the balancer (shaped as TestServer's, for the journey helpers). */
  api: (method: string, route: string, body?: unknown) => Promise<{ status: number; body: any; headers: Headers }>;
  /** Every node's SMS outbox (one shared file). */
  outbox: () => Promise<{ to: string; body: string; sentAt: string; consultationId: string }[]>;
  /** The running nodes carrying media now (UDP ports bound in their range). */
  holders: () => RegionNode[];
  close: () => Promise<void>;
}

export interface RegionOptions {
  /** How many nodes (default 3). */
  nodes?: number;
  /** More environment for every node (lifecycle timers, DRAIN_GRACE, …). */
  env?: Record<string, string>;
}

/** The local UDP ports bound on this machine (IPv4 and IPv6). */
function boundUdpPorts(): Set<number> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      const port = local ? Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) : NaN;
      if (Number.isFinite(port)) ports.add(port);
    }
  }
  return ports;
}

export async function startRegion(opts: RegionOptions = {}): Promise<Region> {
  const count = opts.nodes ?? 3;
  const work = await mkdtemp(path.join(tmpdir(), 'openconsult-region-'));
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const databaseUrl = await createDatabase(postgres.url, `region_${randomBytes(4).toString('hex')}`);
  const specs: { id: string; port: number }[] = [];
  for (let i = 0; i < count; i += 1) specs.push({ id: `node-${String.fromCharCode(97 + i)}`, port: await freePort() });
  const balancer = await startBalancer(specs);
  const outboxFile = path.join(work, 'outbox.jsonl');
  const shared: Record<string, string> = {
    DATABASE_URL: databaseUrl, REDIS_URL: redis.url, PUBLIC_URL: balancer.url,
    SESSION_SECRET: 'region-test-session-secret-0123456789abcdef', API_KEY: TEST_API_KEY,
    SMS_OUTBOX_FILE: outboxFile, LOG_LEVEL: 'info',
    // Tests fire many requests from one address; rate limits have tests of their own.
    RATE_LIMIT_REDEEM: '100000', RATE_LIMIT_API: '1000000',
    ...opts.env,
  };
  const nodes = specs.map((spec, i) => regionNode(spec, path.join(work, spec.id), shared, {
    min: RTC_BASE + i * RTC_PER_NODE, max: RTC_BASE + (i + 1) * RTC_PER_NODE - 1,
  }));
  const region: Region = {
    url: balancer.url,
    nodes,
    balancer,
    postgres,
    redis,
    node(id) {
      const n = nodes.find((x) => x.id === id);
      if (!n) throw new Error(`no node ${id}`);
      return n;
    },
    api: apiAt(balancer.url),
    outbox: () => outboxAt(outboxFile),
    holders() {
      const bound = [...boundUdpPorts()];
      return nodes.filter((n) => n.running && bound.some((p) => p >= n.rtc.min && p <= n.rtc.max));
    },
    async close() {
      await Promise.all(nodes.map((n) => n.kill()));
      await balancer.close();
      await Promise.all([postgres.close(), redis.close()]);
      await rm(work, { recursive: true, force: true });
    },
  };
  try {
    // The first start runs the migrations under their lock; the others then find them done.
    await Promise.all(nodes.map((n) => n.start()));
  } catch (err) {
    await region.close();
    throw err;
  }
  return region;
}

function regionNode(spec: { id: string; port: number }, dataDir: string, shared: Record<string, string>, rtc: { min: number; max: number }): RegionNode {
  let current: ServiceProcess | undefined;
  let running = false;
  const outputs: (() => string)[] = [];
  const url = `http://127.0.0.1:${spec.port}`;
  const env = {
    ...shared, NODE_ID: spec.id, DATA_DIR: dataDir,
    RTC_MIN_PORT: String(rtc.min), RTC_MAX_PORT: String(rtc.max),
  };
  const node: RegionNode = {
    id: spec.id,
    port: spec.port,
    url,
    rtc,
    get running() {
      return running;
    },
    async start() {
      if (running) return;
      const p = await startService(env, spec.port).catch((err: unknown) => {
        throw new Error(`${spec.id}: ${(err as Error).message}`);
      });
      current = p;
      running = true;
      outputs.push(p.output);
      void p.exited.then(() => {
        if (current === p) running = false;
      });
    },
    async kill() {
      const p = current;
      if (!p || !running) return;
      p.child.kill('SIGKILL');
      await p.exited;
    },
    terminate() {
      if (!current || !running) throw new Error(`${spec.id} is not running`);
      current.child.kill('SIGTERM');
    },
    exited() {
      if (!current) throw new Error(`${spec.id} never started`);
      return current.exited;
    },
    async ready() {
      const res = await fetch(`${url}/readyz`);
      return { status: res.status, body: await res.json() as { status: string; checks: Record<string, boolean> } };
    },
    output: () => outputs.map((o) => o()).join('\n--- restarted ---\n'),
  };
  return node;
}

/** Resolves once `condition` holds (checked every 100 ms); fails after `ms` naming `what`. */
export async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
