/**
 * The mediasoup worker pool. Routers go to the worker with the fewest; a worker that dies is
 * replaced and reported, and the process carries on (design.md 4).
 */
import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { Router, RtpCodecCapability, Worker } from 'mediasoup/node/lib/types.js';
import type { Logger } from '../log.js';

/** Opus and VP8 for everyone, H264 constrained baseline so iOS Safari can decode in hardware. */
export const mediaCodecs: RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 600 } },
  {
    kind: 'video', mimeType: 'video/H264', clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];

export interface PoolOptions {
  size: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  logger: Logger;
}

interface PoolEvents {
  /** A worker died; the routers it held are gone and their consultations must re-create media. */
  workerDied: [{ pid: number; routers: Router[] }];
}

export class WorkerPool extends EventEmitter<PoolEvents> {
  private readonly workers: Worker[] = [];
  private closed = false;

  private constructor(private readonly opts: PoolOptions) {
    super();
  }

  static async create(opts: PoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(opts);
    await Promise.all(Array.from({ length: opts.size }, () => pool.spawn()));
    return pool;
  }

  get ready(): boolean {
    return !this.closed && this.workers.length === this.opts.size && this.workers.every((w) => !w.closed);
  }

  get pids(): number[] {
    return this.workers.map((w) => w.pid);
  }

  /**
   * On the least loaded worker; while the only worker is being replaced, waits for its successor.
   * `light`: a router that carries no media (the connection checks'), not counted as load, so
   * it does not steer consultations to the other workers.
   */
  async createRouter(opts: { light?: boolean } = {}): Promise<Router> {
    if (this.workers.length === 0 && this.spawning.size > 0) await Promise.race(this.spawning);
    const worker = this.leastLoaded();
    return worker.createRouter({ mediaCodecs, appData: { light: opts.light === true } });
  }

  private readonly spawning = new Set<Promise<void>>();

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.workers.splice(0)) w.close();
  }

  private routerCount = new WeakMap<Worker, Set<Router>>();

  private leastLoaded(): Worker {
    let best: Worker | undefined;
    for (const w of this.workers) {
      if (!best || (this.routerCount.get(w)?.size ?? 0) < (this.routerCount.get(best)?.size ?? 0)) best = w;
    }
    if (!best) throw new Error('no mediasoup worker available');
    return best;
  }

  private async spawn(): Promise<void> {
    const worker = await mediasoup.createWorker({
      logLevel: 'warn',
      rtcMinPort: this.opts.rtcMinPort,
      rtcMaxPort: this.opts.rtcMaxPort,
    });
    const routers = new Set<Router>();
    this.routerCount.set(worker, routers);
    worker.observer.on('newrouter', (router: Router) => {
      if (router.appData.light === true) return;
      routers.add(router);
      router.observer.on('close', () => routers.delete(router));
    });
    worker.on('died', (err: Error) => {
      const i = this.workers.indexOf(worker);
      if (i >= 0) this.workers.splice(i, 1);
      this.opts.logger.error({ pid: worker.pid, err: err.message, routers: routers.size }, 'mediasoup worker died');
      this.emit('workerDied', { pid: worker.pid, routers: [...routers] });
      if (this.closed) return;
      const replacing = this.spawn()
        .catch((e: unknown) => this.opts.logger.error({ err: e }, 'could not replace mediasoup worker'))
        .finally(() => this.spawning.delete(replacing));
      this.spawning.add(replacing);
    });
    this.workers.push(worker);
    this.opts.logger.info({ pid: worker.pid }, 'mediasoup worker started');
  }
}
