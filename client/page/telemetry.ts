/**
 * Tells the service how long the first picture took after admission (a metric for operators:
 * nothing personal, just milliseconds, the role and whether media went through TURN).
 */
import type { Role } from '../../signalling/events.js';
import type { RemoteStats } from '../call.js';

export class FirstFrame {
  /** When this person got into the call (admitted, or admitting someone). */
  private admittedAt: number | undefined;
  private reported = false;

  constructor(private readonly role: Role) {}

  /** After each join: counting starts afresh, now if they are already in the call. */
  joined(admitted: boolean): void {
    this.reported = false;
    this.admittedAt = admitted ? performance.now() : undefined;
  }

  admitted(): void {
    this.admittedAt = performance.now();
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
}
