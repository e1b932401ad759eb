/**
 * Retry with exponential backoff and jitter, for calls whose failures say whether a second try
 * is safe. The caller decides that (`isRetryable`): this module only counts and waits.
 */

export interface BackoffPolicy {
  /** Tries in all, the first included (3 means at most two retries). */
  readonly attempts: number;
  /** Delay before the first retry, before jitter. Each later retry doubles it. */
  readonly baseDelayMs: number;
  /** No delay exceeds this, jitter included. */
  readonly maxDelayMs: number;
}

export interface RetryOptions {
  readonly policy: BackoffPolicy;
  /** True when `err` means "not done, and trying again cannot do it twice". */
  readonly isRetryable: (err: unknown) => boolean;
  /** Waits; injectable so tests need not wait in real time. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); injectable so tests can pin the jitter. */
  readonly random?: () => number;
  /** Called before each wait, for logs and metrics. */
  readonly onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** Every try failed with a retryable error. `lastError` is the last try's. */
export class RetriesExhaustedError extends Error {
  override readonly name = 'RetriesExhaustedError';
  constructor(
    readonly attempts: number,
    readonly lastError: unknown,
  ) {
    super(`gave up after ${attempts} attempts`);
  }
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The wait after failed try number `failed` (1-based): base * 2^(failed-1), capped, with "equal
 * jitter" (uniform in [d/2, d]): retries from several callers spread out, yet each still waits
 * at least half the exponential delay, so the backoff keeps growing.
 */
export function backoffDelay(failed: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failed - 1));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(exp / 2 + (exp / 2) * r);
}

/**
 * Calls `fn` until it resolves, a non-retryable error (rethrown as is) or `policy.attempts`
 * tries (then `RetriesExhaustedError`). `fn` receives the 1-based attempt number.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const { policy, isRetryable } = opts;
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1) throw new RangeError('attempts must be a positive integer');
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isRetryable(err)) throw err;
      if (attempt >= policy.attempts) throw new RetriesExhaustedError(attempt, err);
      const delayMs = backoffDelay(attempt, policy, random);
      opts.onRetry?.({ attempt, delayMs, error: err });
      await sleep(delayMs);
    }
  }
}
