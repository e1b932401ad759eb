/**
 * Durable timers. Every deadline is a row in the store; one in-memory timer points at the
 * earliest, so a restart (even after SIGKILL) reloads them all and fires the overdue ones at once.
 * Nothing about a pending expiry lives only in memory.
 */
import type { Deadline, DeadlineKind, DeadlineStore } from '../store/store.js';

/** setTimeout cannot wait longer than this (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** After the store failed (a shared store restarting), the timer tries again this soon rather than never. */
const RETRY_MS = 1_000;

export type DueHandler = (d: Deadline) => void | Promise<void>;

export class Deadlines {
  private timer: NodeJS.Timeout | undefined;
  /** The due time the timer is set for: re-armed only when the earliest deadline changes. */
  private armedFor: number | undefined;
  private running = false;
  /** Counts arm() calls: only the latest read of the earliest deadline may set the timer. */
  private arming = 0;

  constructor(
    private readonly store: DeadlineStore,
    private readonly now: () => number,
    private readonly onDue: DueHandler,
    /** A store failure while firing or re-arming (no caller to throw to). */
    private readonly onError: (err: unknown) => void,
    /**
     * With several nodes on one store, others set deadlines this node's timer does not know of
     * (and a lost node's are nobody's): every `pollMs` the earliest is read again. The store takes
     * each deadline once, whichever node asks first.
     */
    private readonly pollMs?: number,
  ) {}

  private poll: NodeJS.Timeout | undefined;

  /** Loads the stored deadlines and fires those already due. */
  async start(): Promise<void> {
    this.running = true;
    if (this.pollMs) {
      this.poll = setInterval(() => void this.arm().catch(this.onError), this.pollMs);
      this.poll.unref();
    }
    await this.arm();
  }

  stop(): void {
    this.running = false;
    clearInterval(this.poll);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = undefined;
  }

  async set(consultationId: string, kind: DeadlineKind, dueAt: number, participantId = ''): Promise<void> {
    await this.store.setDeadline({ consultationId, kind, participantId, dueAt });
    await this.arm();
  }

  async clear(consultationId: string, kind?: DeadlineKind, participantId?: string): Promise<void> {
    await this.store.clearDeadlines(consultationId, kind, participantId);
    await this.arm();
  }

  pending(consultationId: string): Promise<Deadline[]> {
    return this.store.deadlinesOf(consultationId);
  }

  /**
   * Fires every due deadline, one after the other, then waits for the next. They are taken
   * from the store in one call, so a timer that fires while this one runs cannot fire them again.
   */
  private async fire(): Promise<void> {
    this.timer = undefined;
    this.armedFor = undefined;
    let due: Deadline[];
    try {
      due = await this.store.takeDueDeadlines(this.now());
    } catch (err) {
      this.retrySoon();
      throw err;
    }
    for (const d of due) {
      try {
        await this.onDue(d);
      } catch {
        // A handler that fails must not stop the others; handlers log their own errors.
      }
    }
    await this.arm();
  }

  private retrySoon(): void {
    if (!this.running || this.timer) return;
    this.timer = setTimeout(() => this.fire().catch(this.onError), RETRY_MS);
    this.timer.unref();
  }

  private async arm(): Promise<void> {
    if (!this.running) return;
    const call = ++this.arming;
    const next = await this.store.nextDeadline().catch((err: unknown) => {
      this.retrySoon();
      throw err;
    });
    // Stopped meanwhile, or a later arm() read a later state of the store: that one decides.
    if (!this.running || call !== this.arming) return;
    // Most changes (a join, a drop) leave the earliest deadline where it was: keep the timer.
    if (next?.dueAt === this.armedFor && (next === undefined) === (this.timer === undefined)) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = undefined;
    if (!next) return;
    const wait = Math.min(Math.max(0, next.dueAt - this.now()), MAX_TIMER_MS);
    this.armedFor = next.dueAt;
    this.timer = setTimeout(() => this.fire().catch(this.onError), wait);
    this.timer.unref();
  }
}
