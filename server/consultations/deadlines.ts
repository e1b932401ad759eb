/**
 * Durable timers. Every deadline is a row in the store; one in-memory timer points at the
 * earliest, so a restart (even after SIGKILL) reloads them all and fires the overdue ones at once.
 * Nothing about a pending expiry lives only in memory.
 */
import type { Deadline, DeadlineKind, Store } from '../store/store.js';

/** setTimeout cannot wait longer than this (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type DueHandler = (d: Deadline) => void;

export class Deadlines {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly onDue: DueHandler,
  ) {}

  /** Loads the stored deadlines and fires those already due. */
  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  set(consultationId: string, kind: DeadlineKind, dueAt: number, participantId = ''): void {
    this.store.setDeadline({ consultationId, kind, participantId, dueAt });
    this.arm();
  }

  clear(consultationId: string, kind?: DeadlineKind, participantId?: string): void {
    this.store.clearDeadlines(consultationId, kind, participantId);
    this.arm();
  }

  pending(consultationId: string): Deadline[] {
    return this.store.listDeadlines().filter((d) => d.consultationId === consultationId);
  }

  /** Fires every due deadline (each removed before its handler runs), then waits for the next. */
  private fire(): void {
    this.timer = undefined;
    const now = this.now();
    for (const d of this.store.listDeadlines()) {
      if (d.dueAt > now) break;
      this.store.clearDeadlines(d.consultationId, d.kind, d.participantId);
      try {
        this.onDue(d);
      } catch {
        // A handler that fails must not stop the others; handlers log their own errors.
      }
    }
    this.arm();
  }

  private arm(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    const next = this.store.listDeadlines()[0];
    if (!next) {
      this.timer = undefined;
      return;
    }
    const wait = Math.min(Math.max(0, next.dueAt - this.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.fire(), wait);
    this.timer.unref();
  }
}
