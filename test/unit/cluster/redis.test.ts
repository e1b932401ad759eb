/**
 * RedisCluster against a real Redis (Debian's redis-server on loopback): three nodes of one
 * region in this process, each with its own clients, as three machines would have.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterEvents, Placement } from '../../../server/cluster/cluster.js';
import { RedisCluster } from '../../../server/cluster/redis/cluster.js';
import { keys } from '../../../server/cluster/redis/keys.js';
import { createLogger } from '../../../server/log.js';
import { type Engine, startRedis } from '../../helpers/engines.js';

let redis: Engine;
let opened: RedisCluster[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await Promise.all(opened.map((c) => c.close()));
  opened = [];
});
afterAll(async () => {
  await redis?.close();
});

/** A node and what it tells its cluster; `reports` counts its reports (each asks which calls it holds). */
interface TestNode { cluster: RedisCluster; prefix: string; load: number; held: string[]; reports: number }

/** A region of nodes `a`, `b`, `c`… with keys of their own; each node's load and calls are set by the test. */
async function region(loads: number[], nodeTimeoutSeconds = 1, logs?: string[]): Promise<TestNode[]> {
  const prefix = `t-${randomUUID()}:`;
  const nodes: TestNode[] = [];
  for (const [i, load] of loads.entries()) nodes.push(await openNode(prefix, 'abc'[i] as string, load, nodeTimeoutSeconds, logs));
  return nodes;
}

async function openNode(prefix: string, nodeId: string, load: number, nodeTimeoutSeconds = 1, logs?: string[]): Promise<TestNode> {
  const logger = logs ? createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line).msg) }) : createLogger('silent');
  const node = { prefix, load, held: [] as string[], reports: 0 } as TestNode;
  node.cluster = await RedisCluster.open({
    url: redis.url, nodeId, nodeTimeoutSeconds, prefix, logger, load: () => node.load, held: () => (node.reports++, node.held),
  });
  opened.push(node.cluster);
  return node;
}

/** As a SIGKILL would: the node's reports stop, and nothing tells the region. */
function crash(node: TestNode): void {
  clearInterval((node.cluster as unknown as { timer: NodeJS.Timeout }).timer);
}

const where = (from: RedisCluster, p: Placement) => (p.where === 'here' ? from.nodeId : p.node);

/** The next `event` from any of `nodes`, with the node that saw it. */
function next<E extends keyof ClusterEvents>(nodes: TestNode[], event: E): Promise<{ on: string; args: ClusterEvents[E] }> {
  return new Promise((resolve) => {
    for (const { cluster } of nodes) (cluster as RedisCluster).once(event, ((...args: ClusterEvents[E]) => resolve({ on: cluster.nodeId, args })) as never);
  });
}

/** Resolves once each of `nodes` has reported `n` more times (to see that something did not happen). */
async function reported(nodes: TestNode[], n: number): Promise<void> {
  const from = nodes.map((x) => x.reports);
  await until(async () => nodes.every((x, i) => x.reports >= (from[i] as number) + n));
}

/** Resolves once `check` holds, asking again every 50 ms (for what Redis holds, which emits nothing). */
async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('RedisCluster', () => {
  it('places a consultation on the least-loaded node that is not draining, and on itself at a tie', async () => {
    const [a, b, c] = await region([5, 1, 3]) as [TestNode, TestNode, TestNode];
    expect(where(a.cluster, await a.cluster.place('x'))).toBe('b');
    // The placement stays where it is, whoever asks.
    expect(await c.cluster.place('x')).toEqual({ where: 'elsewhere', node: 'b' });
    expect(await b.cluster.place('x')).toEqual({ where: 'here' });
    expect(await a.cluster.ownerOf('x')).toBe('b');
    await b.cluster.drain();
    expect(where(a.cluster, await a.cluster.place('y'))).toBe('c');
    expect((await a.cluster.nodes()).find((n) => n.id === 'b')).toEqual({ id: 'b', load: 1, draining: true });
    // Ties go to the node asked (no redirect); every node draining: the least loaded still takes it.
    c.load = 5;
    await c.cluster.drain();
    a.load = 5;
    await a.cluster.drain();
    expect(where(c.cluster, await c.cluster.place('z'))).toBe('b');
    b.load = 6;
    await b.cluster.drain();
    expect(await c.cluster.place('w')).toEqual({ where: 'here' });
  });

  it('counts each placement at once, so placements between two reports spread', async () => {
    const nodes = await region([0, 0, 0], 30);
    const placed = [];
    for (let i = 0; i < 6; i++) placed.push(where(nodes[0]!.cluster, await nodes[0]!.cluster.place(`s${i}`)));
    expect(placed.sort()).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
  });

  it('gives one holder to 100 concurrent placements of one consultation from three nodes', async () => {
    const nodes = await region([0, 0, 0]);
    let placedEvents = 0;
    for (const n of nodes) n.cluster.on('placed', () => placedEvents++);
    const started = performance.now();
    const holders = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
      const { cluster } = nodes[i % 3]!;
      return where(cluster, await cluster.place('one'));
    }));
    const ms = performance.now() - started;
    expect(new Set(holders).size).toBe(1);
    expect(placedEvents).toBe(1);
    // Placement latency, one at a time (the handshake pays it once per connection).
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) await nodes[i % 3]!.cluster.place(`lat${i}`);
    console.info(`placement: 100 concurrent in ${ms.toFixed(1)} ms; ${((performance.now() - t0) / 100).toFixed(2)} ms each one at a time`);
  });

  it('loses a node whose reports stop after NODE_TIMEOUT, seen by exactly one node, and places its calls elsewhere', async () => {
    const [a, b, c] = await region([0, 5, 5]) as [TestNode, TestNode, TestNode];
    expect(await a.cluster.place('v')).toEqual({ where: 'here' });
    a.held.push('v');
    const lost: string[] = [];
    for (const n of [b, c]) n.cluster.on('nodeLost', (node) => lost.push(`${n.cluster.nodeId}:${node}`));
    const first = next([b, c], 'nodeLost');
    crash(a);
    const at = Date.now();
    const seen = await first;
    console.info(`node lost ${Date.now() - at} ms after its last report (NODE_TIMEOUT 1 s, reports every 333 ms)`);
    expect(seen.args).toEqual(['a']);
    // Two more reports from each survivor: nobody else sees the same loss.
    await reported([b, c], 2);
    expect(lost).toHaveLength(1);
    const takeover = next([b, c], 'placed');
    expect(where(b.cluster, await b.cluster.place('v'))).not.toBe('a');
    expect((await takeover).args[2]).toBe('a');
  });

  it('does not claim back a consultation it let go of while it is still live here (a drain hands it over)', async () => {
    const [a, b] = await region([5, 0]) as [TestNode, TestNode];
    await a.cluster.drain();
    // A call held before the drain, still live here while its pages move.
    a.held.push('h');
    await reported([a], 1);
    expect(await b.cluster.ownerOf('h')).toBe('a');
    let displaced = 0;
    a.cluster.on('displaced', () => displaced++);
    await a.cluster.release('h');
    await reported([a], 2);
    expect(await b.cluster.ownerOf('h')).toBeUndefined();
    expect(await b.cluster.place('h')).toEqual({ where: 'here' });
    await reported([a], 2);
    expect(await a.cluster.ownerOf('h')).toBe('b');
    expect(displaced).toBe(0);
  });

  it('tells a node that another alive node took a consultation it holds (after a partition)', async () => {
    const [a, b] = await region([0, 0]) as [TestNode, TestNode];
    expect(await a.cluster.place('d')).toEqual({ where: 'here' });
    a.held.push('d');
    const displaced = next([a], 'displaced');
    // As b would have placed it while it could not see a's reports.
    const raw = new Redis(redis.url);
    try {
      await raw.set(`${keys(a.prefix).placementPrefix}d`, 'b');
    } finally {
      raw.disconnect();
    }
    expect((await displaced).args).toEqual(['d']);
    expect(await b.cluster.place('d')).toEqual({ where: 'here' });
  });

  it('lets any node read the rooms others publish, until they close', async () => {
    const [a, b] = await region([0, 0]) as [TestNode, TestNode];
    const view = { members: [{ id: 'p1', role: 'patient' as const, presence: 'waiting' as const, waitingSince: 1 }] };
    a.cluster.publishRoom('room1', view);
    await until(async () => (await b.cluster.remoteRooms(['room1', 'none'])).size === 1);
    expect(await b.cluster.remoteRooms(['room1', 'none'])).toEqual(new Map([['room1', view]]));
    a.cluster.publishRoom('room1', undefined);
    await until(async () => (await b.cluster.remoteRooms(['room1'])).size === 0);
  });

  it('carries messages to every other node, not back to the sender', async () => {
    const [a, b, c] = await region([0, 0, 0]) as [TestNode, TestNode, TestNode];
    const got = new Map<string, unknown[]>(['a', 'b', 'c'].map((id) => [id, []]));
    for (const n of [a, b, c]) n.cluster.on('message', (...m) => got.get(n.cluster.nodeId)!.push(m));
    a.cluster.send('closed', { id: 'm1', reason: 'ended_by_api' });
    await until(async () => got.get('b')!.length === 1 && got.get('c')!.length === 1);
    expect(got.get('b')).toEqual([['closed', { id: 'm1', reason: 'ended_by_api' }]]);
    // Messages keep their order: once a has b's, it would have had its own before it.
    b.cluster.send('revoked', { id: 'm1', participantId: 'p1' });
    await until(async () => got.get('a')!.length === 1);
    expect(got.get('a')).toEqual([['revoked', { id: 'm1', participantId: 'p1' }]]);
  });

  it('forgets the placements of its earlier life when a node starts again under the same name', async () => {
    const [a, b] = await region([0, 5]) as [TestNode, TestNode];
    expect(await a.cluster.place('p')).toEqual({ where: 'here' });
    a.held.push('p');
    crash(a);
    await openNode(a.prefix, 'a', 0);
    // Nobody holds it (so the timers adopt it), and the next page is placed by load.
    expect(await b.cluster.ownerOf('p')).toBeUndefined();
  });

  it('forgets a node that stops cleanly at once, without calling it lost', async () => {
    const [a, b, c] = await region([0, 0, 0]) as [TestNode, TestNode, TestNode];
    let lost = 0;
    for (const n of [a, b]) n.cluster.on('nodeLost', () => lost++);
    await c.cluster.close();
    expect((await a.cluster.nodes()).map((n) => n.id)).toEqual(['a', 'b']);
    // Past NODE_TIMEOUT (three reports) and one more: still nobody lost.
    await reported([a, b], 4);
    expect(lost).toBe(0);
  });

  it('after a Redis restart: holders re-assert their placements and messages sent meanwhile arrive', async () => {
    const logs: string[] = [];
    const [a, b] = await region([0, 0], 1, logs) as [TestNode, TestNode];
    expect(await a.cluster.place('r')).toEqual({ where: 'here' });
    a.held.push('r');
    a.cluster.publishRoom('r', { members: [{ id: 'p1', role: 'patient', presence: 'waiting', waitingSince: 1 }] });
    const got: unknown[] = [];
    a.cluster.on('message', (...m) => got.push(m));
    await redis.stop();
    b.cluster.send('closed', { id: 'r', reason: 'ended_by_api' });
    // Meanwhile placement fails at once rather than hanging a request.
    await expect(b.cluster.place('other')).rejects.toThrow();
    await redis.start();
    await until(async () => got.length === 1);
    expect(got).toEqual([['closed', { id: 'r', reason: 'ended_by_api' }]]);
    await until(async () => (await b.cluster.ownerOf('r')) === 'a');
    // Rooms come back with the holder's reports.
    await until(async () => (await b.cluster.remoteRooms(['r'])).has('r'));
    expect(await b.cluster.place('r')).toEqual({ where: 'elsewhere', node: 'a' });
    await until(async () => (await a.cluster.nodes()).length === 2);
    // Each node says once that Redis went and once that it is back, not at every report.
    expect(logs.filter((m) => m.startsWith('Redis unreachable'))).toHaveLength(2);
    expect(logs.filter((m) => m.startsWith('Redis back'))).toHaveLength(2);
  });
});
