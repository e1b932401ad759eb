/**
 * One MediaSession per live consultation. Creating one is synchronous once the routers'
 * capabilities are known, so two participants joining at once always share it.
 */
import type { RtpCapabilities } from 'mediasoup/node/lib/types.js';
import type { WorkerPool } from './pool.js';
import { type MediaObservers, MediaSession, type TransportSettings } from './session.js';

export class MediaSessions {
  private readonly sessions = new Map<string, MediaSession>();
  private capabilities: Promise<RtpCapabilities> | undefined;

  constructor(
    private readonly pool: WorkerPool,
    private readonly transportSettings: TransportSettings,
    private readonly observers: MediaObservers = {},
  ) {}

  get(consultationId: string): MediaSession | undefined {
    return this.sessions.get(consultationId);
  }

  get count(): number {
    return this.sessions.size;
  }

  async getOrCreate(consultationId: string): Promise<MediaSession> {
    const caps = await this.rtpCapabilities();
    let session = this.sessions.get(consultationId);
    if (!session) {
      const created = new MediaSession(consultationId, caps, () => this.pool.createRouter(), this.transportSettings, this.observers);
      session = created;
      this.sessions.set(consultationId, created);
      created.once('closed', () => {
        if (this.sessions.get(consultationId) === created) this.sessions.delete(consultationId);
      });
    }
    return session;
  }

  /**
   * What every router of ours can do (same codecs, so the same for all), read once from a
   * router opened and closed for the purpose; asked again if that failed.
   */
  private rtpCapabilities(): Promise<RtpCapabilities> {
    if (!this.capabilities) {
      const reading = this.pool.createRouter().then((router) => {
        const caps = router.rtpCapabilities;
        router.close();
        return caps;
      });
      reading.catch(() => {
        if (this.capabilities === reading) this.capabilities = undefined;
      });
      this.capabilities = reading;
    }
    return this.capabilities;
  }

  close(consultationId: string): void {
    this.sessions.get(consultationId)?.close();
  }

  closeAll(): void {
    for (const s of [...this.sessions.values()]) s.close();
  }
}
