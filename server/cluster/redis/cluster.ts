/**
 * The region on Redis (REDIS_URL): what nodes share but need not keep (design.md 2.3). Each node
 * reports `{load, draining, at}` every NODE_TIMEOUT/3 under a key that expires after NODE_TIMEOUT;
 * a node whose report expired is lost. Placements are `at:<consultation>` → node id, set by one
 * script (scripts.ts) so two nodes never place one consultation twice. Messages travel on a
 * stream (messages.ts), rooms as JSON keys refreshed by the reports.
 *
 * Two kinds of client: the durable one (socket.io adapter, messages) queues while Redis is away,
 * so nothing sent meanwhile is lost; the control one (placement, reports, rooms, rate limits)
 * fails at once, so no request hangs on Redis: calls already held go on where they are.
 */
import { EventEmitter } from 'node:events';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis, type RedisOptions } from 'ioredis';
import type { ServerOptions } from 'socket.io';
import type { Logger } from '../../log.js';
import type { Cluster, ClusterEvents, ClusterMessage, ClusterMessages, NodeStatus, Placement, RoomView } from '../cluster.js';
import type { ClusterDeps } from '../open.js';
import { type Keys, keys } from './keys.js';
import { Messenger } from './messages.js';
import { leaveScript, ownerScript, placeScript, releaseScript, reportScript } from './scripts.js';

export interface RedisClusterOptions extends ClusterDeps {
  url: string;
  nodeId: string;
  nodeTimeoutSeconds: number;
  /** Prefix of every key (tests give each region its own). */
  prefix?: string;
}

/** A control command given up after this long (Redis stalled): the caller answers `unavailable`. */
const controlTimeoutMs = 1500;

interface NodeRecord { load: number; draining: boolean; at: number }

export class RedisCluster extends EventEmitter<ClusterEvents> implements Cluster {
  readonly multiNode = true;
  private draining = false;
  private closed = false;
  private reachable = true;
  private reporting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The views of the rooms held here, as last published: each report refreshes them. */
  private readonly views = new Map<string, string>();
  /** Let go (handed over) but maybe still live here until the node closes: never re-asserted. */
  private readonly released = new Set<string>();
  private readonly k: Keys;
  private readonly ttl: { node: number; placement: number; room: number };
  private messenger!: Messenger;

  private constructor(
    private readonly opts: RedisClusterOptions,
    private readonly control: Redis,
    private readonly durable: Redis,
    /** Clients made from the durable one (the adapter's readers, the messages' reader): closed with it. */
    private readonly spawned: Redis[],
  ) {
    super();
    this.k = keys(opts.prefix ?? 'openconsult:');
    const timeoutMs = opts.nodeTimeoutSeconds * 1000;
    // Placements and rooms outlive a few missed reports (a Redis blip) but not a forgotten node for long.
    this.ttl = { node: timeoutMs, placement: Math.max(60_000, 10 * timeoutMs), room: 3 * timeoutMs };
  }

  get nodeId(): string {
    return this.opts.nodeId;
  }

  static async open(opts: RedisClusterOptions): Promise<RedisCluster> {
    const base: RedisOptions = { lazyConnect: true, connectionName: `openconsult-${opts.nodeId}` };
    const control = new Redis(opts.url, {
      ...base, enableOfflineQueue: false, commandTimeout: controlTimeoutMs, maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false,
    });
    const durable = new Redis(opts.url, { ...base, maxRetriesPerRequest: null });
    const spawned: Redis[] = [];
    const duplicate = durable.duplicate.bind(durable);
    durable.duplicate = (override) => {
      const c = duplicate(override);
      c.on('error', () => undefined); // the control client tells when Redis is away
      spawned.push(c);
      return c;
    };
    durable.on('error', () => undefined);
    control.on('error', () => undefined);
    const cluster = new RedisCluster(opts, control, durable, spawned);
    try {
      await Promise.all([control.connect(), durable.connect()]);
      const reader = durable.duplicate();
      await reader.connect();
      cluster.messenger = await Messenger.start(durable, reader, cluster.k.messages, opts.nodeId, opts.logger,
        (m) => cluster.emit('message', ...m));
      await cluster.forgetEarlierLife();
      await cluster.report();
    } catch (err) {
      await cluster.close();
      throw new Error(`this node could not join the region in Redis (REDIS_URL): ${(err as Error).message}`);
    }
    cluster.watch();
    return cluster;
  }

  /**
   * A node that starts holds nothing: placements naming it are from before a crash (NODE_ID is
   * the host name, so a restarted node comes back under its old name, often within NODE_TIMEOUT).
   * Forgetting them lets its calls be placed by load and the timers adopt them (nobody holds them).
   */
  private async forgetEarlierLife(): Promise<void> {
    const stream = this.control.scanStream({ match: `${this.k.placementPrefix}*`, count: 500 });
    for await (const found of stream as AsyncIterable<string[]>) {
      for (const key of found) await this.control.eval(releaseScript, 1, key, this.nodeId);
    }
  }

  /** Reports every NODE_TIMEOUT/3; says once when Redis goes away and once when it is back (and reports at once). */
  private watch(): void {
    this.timer = setInterval(() => void this.beat(), (this.opts.nodeTimeoutSeconds * 1000) / 3);
    this.timer.unref();
    this.control.on('close', () => {
      if (this.closed || !this.reachable) return;
      this.reachable = false;
      this.opts.logger.warn('Redis unreachable: calls here go on; placement, rooms and node reports wait for it');
    });
    this.control.on('ready', () => {
      if (this.reachable) return;
      this.reachable = true;
      this.opts.logger.info('Redis back: this node reports and re-asserts its calls');
      void this.beat();
    });
  }

  private async beat(): Promise<void> {
    // One report at a time: a slow one is not piled on.
    if (this.reporting || this.closed) return;
    this.reporting = this.report().catch((err: unknown) => {
      if (this.reachable) this.opts.logger.warn({ err }, 'node report failed');
    }).finally(() => (this.reporting = undefined));
    await this.reporting;
  }

  private async report(): Promise<void> {
    const held = this.held();
    const record: NodeRecord = { load: this.load(), draining: this.draining, at: Date.now() };
    const [displaced, lost] = await this.control.eval(reportScript, 2, this.k.nodePrefix + this.nodeId, this.k.nodes,
      JSON.stringify(record), this.ttl.node, this.nodeId, this.k.nodePrefix, this.k.placementPrefix, this.ttl.placement, ...held) as [string[], string[]];
    if (this.views.size) {
      const refresh = this.control.pipeline();
      for (const [id, json] of this.views) refresh.set(this.k.roomPrefix + id, json, 'PX', this.ttl.room);
      await refresh.exec();
    }
    for (const id of displaced) this.emit('displaced', id);
    for (const node of lost) this.emit('nodeLost', node);
  }

  private load(): number {
    return this.opts.load();
  }

  /** The calls this node holds and has not let go of. */
  private held(): string[] {
    const held = new Set(this.opts.held());
    for (const id of this.released) if (!held.has(id)) this.released.delete(id); // closed here by now
    return [...held].filter((id) => !this.released.has(id));
  }

  async place(consultationId: string): Promise<Placement> {
    const [node, placedNow, from] = await this.control.eval(placeScript, 2, this.k.placementPrefix + consultationId, this.k.nodes,
      this.k.nodePrefix, this.nodeId, this.load(), this.draining ? 1 : 0, this.ttl.placement) as [string, number, string];
    if (placedNow) this.emit('placed', consultationId, node, from || null);
    if (node !== this.nodeId) return { where: 'elsewhere', node };
    this.released.delete(consultationId);
    return { where: 'here' };
  }

  async ownerOf(consultationId: string): Promise<string | undefined> {
    const owner = await this.control.eval(ownerScript, 1, this.k.placementPrefix + consultationId, this.k.nodePrefix) as string | null;
    return owner ?? undefined;
  }

  async release(consultationId: string): Promise<void> {
    this.released.add(consultationId);
    await this.control.eval(releaseScript, 1, this.k.placementPrefix + consultationId, this.nodeId);
  }

  send<K extends ClusterMessage>(type: K, body: ClusterMessages[K]): void {
    this.messenger.send(type, body);
  }

  publishRoom(consultationId: string, view: RoomView | undefined): void {
    const key = this.k.roomPrefix + consultationId;
    if (view) this.views.set(consultationId, JSON.stringify(view));
    else this.views.delete(consultationId);
    const json = this.views.get(consultationId);
    // Redis away: the next report publishes the view again (a closed room's key expires).
    (json ? this.control.set(key, json, 'PX', this.ttl.room) : this.control.del(key)).catch(() => undefined);
  }

  async remoteRooms(consultationIds: readonly string[]): Promise<Map<string, RoomView>> {
    const out = new Map<string, RoomView>();
    if (!consultationIds.length) return out;
    // Redis away: the console shows those rooms without their people for a moment, rather than failing.
    const raw = await this.control.mget(consultationIds.map((id) => this.k.roomPrefix + id)).catch(() => []);
    raw.forEach((json, i) => {
      if (json) out.set(consultationIds[i] as string, JSON.parse(json) as RoomView);
    });
    return out;
  }

  async drain(): Promise<void> {
    this.draining = true;
    await this.report();
  }

  async nodes(): Promise<NodeStatus[]> {
    const ids = (await this.control.smembers(this.k.nodes)).sort();
    if (!ids.length) return [];
    const records = await this.control.mget(ids.map((id) => this.k.nodePrefix + id));
    return ids.flatMap((id, i) => {
      const json = records[i];
      if (!json) return [];
      const { load, draining } = JSON.parse(json) as NodeRecord;
      return [{ id, load, draining }];
    });
  }

  socketOptions(): Partial<ServerOptions> {
    // Short blocking reads, so a closing server's adapter stops soon.
    return { adapter: createAdapter(this.durable, { streamName: this.k.socketIo, channelPrefix: this.k.socketIo, blockTimeInMs: 1000 }) as never };
  }

  rateLimitRedis(): Redis {
    return this.control;
  }

  /** A clean stop, not a loss: the record goes at once. Call after the socket.io server closed (its adapter reads through these clients). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.messenger?.stop();
    await this.reporting;
    if (this.control.status === 'ready') {
      await this.control.eval(leaveScript, 2, this.k.nodePrefix + this.nodeId, this.k.nodes, this.nodeId).catch(() => undefined);
    }
    // Messages still queued go out if Redis answers soon; otherwise they are dropped with the node.
    if (this.durable.status === 'ready') await Promise.race([this.durable.quit(), new Promise((r) => setTimeout(r, 1000))]).catch(() => undefined);
    for (const c of [this.control, this.durable, ...this.spawned]) c.disconnect();
  }
}
