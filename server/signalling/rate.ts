/**
 * A token bucket per connection: every acknowledged event takes a token, tokens come back at a
 * steady rate up to the burst size. A browser's busiest moment (join, two transports, their
 * connects, two or three producers, and per other participant two consumers with their resumes)
 * stays well inside the burst; a client looping on an event is refused with `rate_limited`
 * and keeps its connection, so a buggy page recovers and a hostile one costs us little.
 * Buckets hang off the socket in a WeakMap: nothing to clean up when it goes.
 */
import { AppError } from '../errors.js';

export interface RateSettings {
  /** Tokens a fresh connection has, and the most it can save up. */
  burst: number;
  /** Tokens returned per second. */
  perSecond: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class EventLimiter {
  private readonly buckets = new WeakMap<object, Bucket>();

  constructor(
    private readonly settings: RateSettings,
    private readonly now: () => number,
  ) {}

  /** Takes a token for one event on `socket`, or throws `rate_limited`. */
  take(socket: object): void {
    const now = this.now();
    const { burst, perSecond } = this.settings;
    const b = this.buckets.get(socket) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    this.buckets.set(socket, b);
    if (b.tokens < 1) throw new AppError('rate_limited', 'Too many requests on this connection; try again in a moment.');
    b.tokens -= 1;
  }
}
