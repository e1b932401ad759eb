import { describe, expect, it } from 'vitest';
import { type BackoffPolicy, RetriesExhaustedError, backoffDelay, retry } from '../../../server/sms/retry.js';

const POLICY: BackoffPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 3_000 };

class Busy extends Error {}
class Refused extends Error {}

/** A function that fails with the given errors in turn, then resolves with 'done'. */
function failing(...errors: Error[]) {
  const calls: number[] = [];
  const fn = async (attempt: number) => {
    calls.push(attempt);
    const err = errors[attempt - 1];
    if (err) throw err;
    return 'done';
  };
  return { fn, calls };
}

function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('backoffDelay', () => {
  it('doubles the delay after each failure', () => {
    const top = (n: number) => backoffDelay(n, POLICY, () => 1);
    expect([top(1), top(2), top(3)]).toEqual([500, 1_000, 2_000]);
  });

  it('keeps jitter between half and all of the exponential delay', () => {
    for (const failed of [1, 2, 3]) {
      const full = 500 * 2 ** (failed - 1);
      expect(backoffDelay(failed, POLICY, () => 0)).toBe(full / 2);
      expect(backoffDelay(failed, POLICY, () => 0.5)).toBe(full * 0.75);
      expect(backoffDelay(failed, POLICY, () => 0.999999)).toBeLessThanOrEqual(full);
    }
  });

  it('never waits longer than the cap, jitter included', () => {
    expect(backoffDelay(10, POLICY, () => 1)).toBe(3_000);
    expect(backoffDelay(10, POLICY, () => 0)).toBe(1_500);
  });
});

describe('retry', () => {
  it('returns the first success without waiting', async () => {
    const { fn, calls } = failing();
    const { waits, sleep } = recordingSleep();
    await expect(retry(fn, { policy: POLICY, isRetryable: () => true, sleep })).resolves.toBe('done');
    expect(calls).toEqual([1]);
    expect(waits).toEqual([]);
  });

  it('retries retryable failures with growing waits until one succeeds', async () => {
    const { fn, calls } = failing(new Busy(), new Busy());
    const { waits, sleep } = recordingSleep();
    const retried: number[] = [];
    const result = await retry(fn, {
      policy: POLICY, isRetryable: (e) => e instanceof Busy, sleep, random: () => 0.5,
      onRetry: ({ attempt }) => retried.push(attempt),
    });
    expect(result).toBe('done');
    expect(calls).toEqual([1, 2, 3]);
    expect(waits).toEqual([375, 750]);
    expect(retried).toEqual([1, 2]);
  });

  it('stops at the first error that is not retryable and rethrows it as is', async () => {
    const refused = new Refused('no');
    const { fn, calls } = failing(new Busy(), refused, new Busy());
    const { waits, sleep } = recordingSleep();
    await expect(retry(fn, { policy: POLICY, isRetryable: (e) => e instanceof Busy, sleep, random: () => 0 })).rejects.toBe(refused);
    expect(calls).toEqual([1, 2]);
    expect(waits).toEqual([250]);
  });

  it('gives up after the allowed attempts with the last error attached', async () => {
    const last = new Busy('fourth');
    const { fn, calls } = failing(new Busy(), new Busy(), new Busy(), last);
    const { waits, sleep } = recordingSleep();
    const err: unknown = await retry(fn, { policy: POLICY, isRetryable: () => true, sleep, random: () => 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect(err).toMatchObject({ attempts: 4, lastError: last });
    expect(calls).toEqual([1, 2, 3, 4]);
    expect(waits).toEqual([250, 500, 1_000]);
  });

  it('refuses a policy with no attempts', async () => {
    const { fn, calls } = failing();
    await expect(retry(fn, { policy: { ...POLICY, attempts: 0 }, isRetryable: () => true })).rejects.toThrow(RangeError);
    expect(calls).toEqual([]);
  });
});
