/**
 * Tells the service how long the first picture took after admission (a metric for operators:
 * nothing personal, just milliseconds, the role and whether media went through TURN), and in a
 * call of two when the other's media came over the direct connection or why it was given up.
 */
import type { Role } from '../../signalling/events.js';
import { isOneOf, p2pFallbackReasons } from '../../signalling/vocabulary.js';
import type { RemoteStats } from '../call.js';
import { timeline } from '../timeline.js';

/** How often the path's milestones (client/call/path.ts marks them on the timeline) are read. */
const PATH_READ_MS = 1_000;
/** Fallbacks reported per join at most: a pair that keeps failing stays on the SFU anyway. */
const MAX_FALLBACKS = 3;

export class FirstFrame {
  /** When this person got into the call (admitted, or admitting someone). */
  private admittedAt: number | undefined;
  private reported = false;
  /** Timeline entries before this one were read (or came before this join). */
  private read = 0;
  private directReported = false;
  private fallbacks = 0;
  private pathTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly role: Role) {}

  /** After each join: counting starts afresh, now if they are already in the call. */
  joined(admitted: boolean): void {
    this.reported = false;
    this.admittedAt = admitted ? performance.now() : undefined;
    this.read = timeline.length;
    this.directReported = false;
    this.fallbacks = 0;
    if (admitted) this.watchPath();
  }

  admitted(): void {
    this.admittedAt = performance.now();
    this.watchPath();
  }

  /** The first frame showed; `stats` says which path the media took. Sent once per join. */
  shown(stats: (() => Promise<RemoteStats>) | undefined): void {
    if (this.reported || this.admittedAt === undefined || !stats) return;
    this.reported = true;
    const ms = Math.min(120_000, Math.max(0, Math.round(performance.now() - this.admittedAt)));
    const role = this.role;
    void stats().then((s) => {
      const relayed = s.paths.some((p) => p.direction === 'recv' && p.localType === 'relay');
      return fetch('/api/v1/telemetry/first-frame', {
        method: 'POST', keepalive: true, headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ms, role, relayed }),
      });
    }).catch(() => undefined);
  }

  /**
   * Reads the path's milestones from the timeline (the path knows nothing of telemetry): the first
   * time the other's media showed from the direct connection, and each fallback with its reason.
   */
  private watchPath(): void {
    this.pathTimer ??= setInterval(() => {
      const at = this.admittedAt;
      for (; this.read < timeline.length; this.read += 1) {
        const [label, t] = timeline[this.read]!;
        if (label === 'path:direct' && !this.directReported && at !== undefined) {
          this.directReported = true;
          report('/api/v1/telemetry/p2p', { outcome: 'direct', ms: Math.min(120_000, Math.max(0, Math.round(t - at))) });
        }
        const reason = label.startsWith('p2p-fallback:') ? label.slice('p2p-fallback:'.length) : undefined;
        if (isOneOf(p2pFallbackReasons, reason) && this.fallbacks < MAX_FALLBACKS) {
          this.fallbacks += 1;
          report('/api/v1/telemetry/p2p', { outcome: 'fallback', reason });
        }
      }
    }, PATH_READ_MS);
  }
}

function report(route: string, body: unknown): void {
  void fetch(route, {
    method: 'POST', keepalive: true, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  }).catch(() => undefined);
}
