/**
 * The durable timers against a store that answers late, as a networked store (PostgreSQL) would:
 * awaiting it lets other work run between a read and what is done with it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Deadlines } from '../../../server/consultations/deadlines.js';
import type { Deadline, DeadlineKind, DeadlineStore } from '../../../server/store/store.js';

/** Deadlines in memory. Each answer comes a turn of the event loop later; nextDeadline's can be held back. */
class SlowStore implements DeadlineStore {
  rows: Deadline[] = [];
  /** While set, nextDeadline() reads now and answers only when the test calls the answer it queued here. */
  held: (() => void)[] | undefined;

  private later<T>(value: T): Promise<T> {
    return new Promise((resolve) => setImmediate(() => resolve(value)));
  }
  private matches(r: Deadline, cid: string, kind?: DeadlineKind, pid?: string) {
    return r.consultationId === cid && (kind === undefined || r.kind === kind) && (pid === undefined || r.participantId === pid);
  }
  async setDeadline(d: Deadline) {
    this.rows = [...this.rows.filter((r) => !this.matches(r, d.consultationId, d.kind, d.participantId)), d];
    return this.later(undefined);
  }
  async clearDeadlines(cid: string, kind?: DeadlineKind, pid?: string) {
    this.rows = this.rows.filter((r) => !this.matches(r, cid, kind, pid));
    return this.later(undefined);
  }
  async nextDeadline() {
    const next = [...this.rows].sort((a, b) => a.dueAt - b.dueAt)[0];
    const held = this.held;
    if (held) return new Promise<Deadline | undefined>((resolve) => held.push(() => resolve(next)));
    return this.later(next);
  }
  async takeDueDeadlines(now: number) {
    const due = this.rows.filter((r) => r.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt);
    this.rows = this.rows.filter((r) => r.dueAt > now);
    return this.later(due);
  }
  async deadlinesOf(cid: string) {
    return this.later(this.rows.filter((r) => r.consultationId === cid));
  }
}

const running: Deadlines[] = [];
afterEach(() => {
  for (const d of running.splice(0)) d.stop();
});

function start(store: SlowStore, onDue: (d: Deadline) => void | Promise<void>) {
  const errors: unknown[] = [];
  const d = new Deadlines(store, Date.now, onDue, (err) => errors.push(err));
  running.push(d);
  return { d, errors };
}

const due = (consultationId: string, dueAt: number): Deadline => ({ consultationId, kind: 'call_limit', participantId: '', dueAt });

describe('durable timers over a slow store', () => {
  it('fires each due deadline once, even when the timer is re-armed while a handler still runs', async () => {
    const store = new SlowStore();
    const now = Date.now();
    store.rows = [due('c1', now - 2), due('c2', now - 1)];
    const fired: string[] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { d, errors } = start(store, async (x) => {
      fired.push(x.consultationId);
      if (x.consultationId === 'c1') await gate;
    });
    await d.start();
    await vi.waitFor(() => expect(fired).toEqual(['c1']));
    // c2 was handed out with c1. A deadline set now re-arms the timer and fires at once, while
    // c1's handler still waits: c2 must not fire from that timer too.
    await d.set('c4', 'call_limit', Date.now());
    await vi.waitFor(() => expect(fired).toContain('c4'));
    release();
    // By the time one more deadline due at once has fired, everything before it has.
    await d.set('c5', 'call_limit', Date.now());
    await vi.waitFor(() => expect(fired).toContain('c5'));
    expect(fired).toEqual(['c1', 'c4', 'c2', 'c5']);
    expect(errors).toEqual([]);
  });

  it('arms for a deadline set while an earlier read of the store is still out', async () => {
    const store = new SlowStore();
    const fired: string[] = [];
    const { d } = start(store, (x) => {
      fired.push(x.consultationId);
    });
    store.held = [];
    const starting = d.start(); // reads an empty store; its answer is held back
    const stale = store.held;
    store.held = undefined;
    await d.set('c1', 'empty_room', Date.now());
    for (const answer of stale) answer(); // the older read answers last: it must not disarm c1
    await starting;
    await vi.waitFor(() => expect(fired).toEqual(['c1']));
  });
});
