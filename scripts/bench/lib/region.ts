/**
 * A small launcher for the region benchmark: openconsult nodes as real processes
 * (test/helpers/process.ts), on SQLite alone or on a shared PostgreSQL and Redis
 * (test/helpers/engines.ts), each with its own data folder, port and media range. Pages reach
 * a node through the load balancer's `/node/<id>/` route; here the client follows a `moved`
 * answer straight to that node (`connectFollowing`), so no balancer hop is measured, the same
 * for every configuration.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { createDatabase, type Engine, startPostgres, startRedis } from '../../../test/helpers/engines.js';
import { freePort, type ServiceProcess, startService } from '../../../test/helpers/process.js';
import { linkIn } from '../../../test/helpers/server.js';

export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef0123456789';
const SESSION_SECRET = 'bench-session-secret-0123456789abcdef0123456789abcdef';

export interface RegionNode {
  id: string;
  url: string;
  dataDir: string;
  alive: boolean;
  /** SIGKILL: the node is lost, not drained. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again (same id, port, data folder and media range). */
  start(): Promise<void>;
}

export interface Region {
  nodes: RegionNode[];
  alive(): RegionNode[];
  close(): Promise<void>;
}

/** The shared engines, started once for all the region's configurations. */
export interface Engines {
  postgres: Engine;
  close(): Promise<void>;
}

export async function startEngines(): Promise<Engines> {
  const postgres = await startPostgres();
  return { postgres, close: () => postgres.close() };
}

let seq = 0;
let nextRtcPort = 42000;

/**
 * `nodes` nodes: on SQLite (one node only: it is the embedded default), or on a fresh database of
 * the engines' PostgreSQL and a Redis of their own.
 */
export async function startRegion(opts: { nodes: number; engines?: Engines; nodeTimeout?: number }): Promise<Region> {
  if (!opts.engines && opts.nodes !== 1) throw new Error('several nodes need PostgreSQL and Redis');
  const name = `bench_region_${process.pid}_${++seq}`;
  const databaseUrl = opts.engines ? await createDatabase(opts.engines.postgres.url, name) : undefined;
  const redis = opts.engines ? await startRedis() : undefined;
  const nodes: (RegionNode & { proc?: ServiceProcess })[] = [];
  const closeAll = async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    await Promise.all(nodes.map((n) => rm(n.dataDir, { recursive: true, force: true })));
    await redis?.close();
  };
  try {
    const made = await Promise.all(Array.from({ length: opts.nodes }, async (_x, i) => {
      const id = `bench-${seq}-${String.fromCharCode(97 + i)}`;
      const port = await freePort();
      const dataDir = await mkdtemp(path.join(tmpdir(), `openconsult-${id}-`));
      const rtcMin = nextRtcPort;
      nextRtcPort += 200;
      const env: Record<string, string> = {
        NODE_ID: id, DATA_DIR: dataDir, API_KEY: BENCH_API_KEY, SESSION_SECRET, LOG_LEVEL: 'info',
        PUBLIC_URL: `http://127.0.0.1:${port}`, RTC_MIN_PORT: String(rtcMin), RTC_MAX_PORT: String(rtcMin + 199),
        RATE_LIMIT_REDEEM: '100000', RATE_LIMIT_API: '100000', DRAIN_GRACE: '5',
        ...(opts.nodeTimeout ? { NODE_TIMEOUT: String(opts.nodeTimeout) } : {}),
        ...(databaseUrl && redis ? { DATABASE_URL: databaseUrl, REDIS_URL: redis.url } : {}),
      };
      const node: RegionNode & { proc?: ServiceProcess } = {
        id, url: `http://127.0.0.1:${port}`, dataDir, alive: false,
        async start() {
          node.proc = await startService(env, port);
          node.alive = true;
        },
        async kill() {
          const p = node.proc;
          node.alive = false;
          node.proc = undefined;
          if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
          p.child.kill('SIGKILL');
          await p.exited;
        },
      };
      nodes.push(node);
      return node;
    }));
    // One at a time: each runs the migrations under the lock, and two cores start them no faster at once.
    for (const n of made) await n.start();
    return { nodes: made, alive: () => made.filter((n) => n.alive), close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** The practice API on `node`. */
export async function api(node: RegionNode, method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${node.url}${route}`, {
    method, headers: { authorization: `Bearer ${BENCH_API_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Creates a consultation on `node`: its id and the patient's and clinician's link codes. */
export async function createConsultation(node: RegionNode): Promise<{ id: string; patientCode: string; clinicianCode: string }> {
  const res = await api(node, 'POST', '/api/v1/consultations', { patientPhone: '07700 900123', patientName: 'Bench Patient', clinicianName: 'Dr Bench' });
  if (res.status !== 201) throw new Error(`create consultation: ${res.status} ${JSON.stringify(res.body)}`);
  const outbox = await readFile(path.join(node.dataDir, 'sms-outbox.jsonl'), 'utf8');
  const sms = outbox.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { consultationId: string; body: string }).find((m) => m.consultationId === res.body.id);
  if (!sms) throw new Error('no SMS for the consultation');
  const code = (link: string) => link.slice(link.lastIndexOf('/') + 1);
  return { id: res.body.id, patientCode: code(linkIn(sms.body)), clinicianCode: code(res.body.clinicianUrl) };
}

export interface Session { cookie: string; consultationId: string; participantId: string }

/** Redeems a link code on `node` (any node: the store is shared). */
export async function redeem(node: RegionNode, code: string): Promise<Session> {
  const res = await fetch(`${node.url}/api/v1/links/${code}/redeem`, { method: 'POST' });
  const body = (await res.json()) as { consultationId: string; participantId: string };
  if (res.status !== 200) throw new Error(`redeem: ${res.status} ${JSON.stringify(body)}`);
  const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
  if (!cookie) throw new Error('redeem set no session cookie');
  return { cookie, ...body };
}

/**
 * Connects `session`'s socket through `entry`, as a page does through the balancer: a `moved`
 * answer names the node holding the consultation, and the client connects there; while the
 * named node is gone (not yet seen lost), or the region answers `unavailable`, it tries again
 * through another live node every `retryMs`.
 */
export async function connectFollowing(region: Region, session: Session, entry: RegionNode, opts: { retryMs?: number; timeoutMs?: number } = {}): Promise<{ socket: Socket; hops: number; node: RegionNode }> {
  const until = Date.now() + (opts.timeoutMs ?? 30_000);
  let node: RegionNode | undefined = entry;
  for (let hops = 0; ; hops++) {
    if (Date.now() > until) throw new Error('could not connect: no node took the consultation');
    const via = node?.alive ? node : region.alive()[hops % Math.max(1, region.alive().length)];
    if (!via) throw new Error('no node alive');
    const socket = io(via.url, {
      auth: { consultationId: session.consultationId }, extraHeaders: { cookie: session.cookie }, transports: ['websocket'], reconnection: false, forceNew: true,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      return { socket, hops, node: via };
    } catch (err) {
      socket.disconnect();
      const data = (err as { data?: { code?: string; path?: string } }).data;
      if (data?.code === 'moved' && data.path) {
        const id = /^\/node\/([^/]+)\//.exec(data.path)?.[1];
        node = region.nodes.find((n) => n.id === id);
        if (node?.alive) continue;
      } else if (data?.code !== 'unavailable' && via.alive) {
        throw err;
      }
      node = undefined;
      await new Promise((r) => setTimeout(r, opts.retryMs ?? 250));
    }
  }
}
