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
  /** The due time the timer is set for: re-armed only when the earliest deadline changes. */
  private armedFor: number | undefined;
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
    this.armedFor = undefined;
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
    return this.store.deadlinesOf(consultationId);
  }

  /** Fires every due deadline (each removed before its handler runs), then waits for the next. */
  private fire(): void {
    this.timer = undefined;
    this.armedFor = undefined;
    for (const d of this.store.dueDeadlines(this.now())) {
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
    const next = this.store.nextDeadline();
    // Most changes (a join, a drop) leave the earliest deadline where it was: keep the timer.
    if (next?.dueAt === this.armedFor && (next === undefined) === (this.timer === undefined)) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = undefined;
    if (!next) return;
    const wait = Math.min(Math.max(0, next.dueAt - this.now()), MAX_TIMER_MS);
    this.armedFor = next.dueAt;
    this.timer = setTimeout(() => this.fire(), wait);
    this.timer.unref();
  }
}
