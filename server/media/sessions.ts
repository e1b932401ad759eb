/**
 * One MediaSession per live consultation. Get-or-create is serialised per consultation so two
 * participants joining at once share one router (mediasoup-demo queues room creation likewise).
 */
import type { WorkerPool } from './pool.js';
import { MediaSession, type TransportSettings } from './session.js';

export class MediaSessions {
  private readonly sessions = new Map<string, MediaSession>();
  private readonly pending = new Map<string, Promise<MediaSession>>();

  constructor(
    private readonly pool: WorkerPool,
    private readonly transportSettings: TransportSettings,
  ) {}

  get(consultationId: string): MediaSession | undefined {
    return this.sessions.get(consultationId);
  }

  get count(): number {
    return this.sessions.size;
  }

  getOrCreate(consultationId: string): Promise<MediaSession> {
    const existing = this.sessions.get(consultationId);
    if (existing) return Promise.resolve(existing);
    let creating = this.pending.get(consultationId);
    if (!creating) {
      creating = this.pool
        .createRouter()
        .then((router) => {
          const session = new MediaSession(consultationId, router, this.transportSettings);
          this.sessions.set(consultationId, session);
          session.once('closed', () => {
            if (this.sessions.get(consultationId) === session) this.sessions.delete(consultationId);
          });
          return session;
        })
        .finally(() => this.pending.delete(consultationId));
      this.pending.set(consultationId, creating);
    }
    return creating;
  }

  close(consultationId: string): void {
    this.sessions.get(consultationId)?.close();
  }

  closeAll(): void {
    for (const s of [...this.sessions.values()]) s.close();
  }
}
