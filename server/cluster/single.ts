/** The embedded default: one process, so every consultation is here and nothing crosses nodes. */
import { EventEmitter } from 'node:events';
import type { Cluster, ClusterEvents, NodeStatus, Placement, RoomView } from './cluster.js';

export class SingleNode extends EventEmitter<ClusterEvents> implements Cluster {
  readonly multiNode = false;
  private draining = false;

  constructor(
    readonly nodeId: string,
    private readonly load: () => number,
  ) {
    super();
  }

  async place(): Promise<Placement> {
    return { where: 'here' };
  }

  async ownerOf(): Promise<string | undefined> {
    return this.nodeId;
  }

  async release(): Promise<void> {}
  send(): void {}
  publishRoom(): void {}

  async remoteRooms(): Promise<Map<string, RoomView>> {
    return new Map();
  }

  async drain(): Promise<void> {
    this.draining = true;
  }

  async nodes(): Promise<NodeStatus[]> {
    return [{ id: this.nodeId, load: this.load(), draining: this.draining }];
  }

  socketOptions(): Record<string, never> {
    return {};
  }

  rateLimitRedis(): undefined {
    return undefined;
  }

  async close(): Promise<void> {}
}
