/**
 * Messages between nodes on a Redis stream. Not `io.serverSideEmit`: the socket.io Redis Streams
 * adapter (0.3) sends server-side emits by PUB/SUB, and a message published after a Redis restart
 * but before the other nodes have subscribed again is gone. A stream keeps it: a message sent
 * while Redis is away waits in the sending client's queue, and each reader reads on from the last
 * entry it saw (entry ids grow with Redis's clock, so the same holds on a restarted, empty server).
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../log.js';
import type { ClusterMessage, ClusterMessages } from '../cluster.js';

/** Entries kept (approximately): far more than nodes exchange while one reconnects. */
const maxLen = 10_000;
/** How long one read blocks: also how long close() may wait for the reader to notice. */
const blockMs = 1000;

export type Delivery = { [K in ClusterMessage]: [type: K, body: ClusterMessages[K]] }[ClusterMessage];

export class Messenger {
  private stopped = false;

  private constructor(
    private readonly writer: Redis,
    private readonly reader: Redis,
    private readonly stream: string,
    private readonly nodeId: string,
    private readonly logger: Logger,
    private offset: string,
  ) {}

  /**
   * `writer` queues while Redis is away (maxRetriesPerRequest: null); `reader` is a client of
   * its own (a blocking read holds its connection).
   */
  static async start(writer: Redis, reader: Redis, stream: string, nodeId: string, logger: Logger, deliver: (m: Delivery) => void): Promise<Messenger> {
    // From the newest entry now: what was sent before this node started is not for it.
    const newest = await reader.xrevrange(stream, '+', '-', 'COUNT', 1);
    const m = new Messenger(writer, reader, stream, nodeId, logger, newest[0]?.[0] ?? '0-0');
    void m.read(deliver);
    return m;
  }

  send<K extends ClusterMessage>(type: K, body: ClusterMessages[K]): void {
    this.writer.xadd(this.stream, 'MAXLEN', '~', maxLen, '*', 'from', this.nodeId, 'type', type, 'body', JSON.stringify(body))
      .catch((err: unknown) => this.logger.warn({ err, type }, 'message to the other nodes not sent'));
  }

  stop(): void {
    this.stopped = true;
  }

  private async read(deliver: (m: Delivery) => void): Promise<void> {
    while (!this.stopped) {
      let batch: [string, [string, string[]][]][] | null;
      try {
        batch = await this.reader.xread('COUNT', 100, 'BLOCK', blockMs, 'STREAMS', this.stream, this.offset);
      } catch {
        // Closed, or Redis away with the command given up: the client reconnects; read on from the same entry.
        if (!this.stopped) await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      for (const [id, fields] of batch?.[0]?.[1] ?? []) {
        this.offset = id;
        const m = decode(fields);
        if (!m) this.logger.warn({ entry: id }, 'unreadable message between nodes: ignored');
        else if (m.from !== this.nodeId) deliver(m.message);
      }
    }
  }
}

/** The consultation each message names: its one required field (Redis is ours, but a node of another version may write). */
const idField: Record<ClusterMessage, 'id' | 'consultationId'> = { closed: 'id', revoked: 'id', due: 'consultationId', callback: 'id' };

function decode(fields: string[]): { from: string; message: Delivery } | undefined {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i] as string, fields[i + 1] as string);
  const from = f.get('from');
  const type = f.get('type');
  if (!from || !type || !(type in idField)) return undefined;
  try {
    const body = JSON.parse(f.get('body') ?? '') as Record<string, unknown> | null;
    if (typeof body?.[idField[type as ClusterMessage]] !== 'string') return undefined;
    return { from, message: [type, body] as unknown as Delivery };
  } catch {
    return undefined;
  }
}
