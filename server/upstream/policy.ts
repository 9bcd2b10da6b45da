import pThrottle from 'p-throttle';

export interface RetryPolicy {
  retries: number;
  minTimeoutMs: number;
  /** Cap on the backoff between attempts (p-retry's default when absent). */
  maxTimeoutMs?: number;
  timeoutMs: number;
  /** Longest Retry-After we are willing to sit out inside one call. */
  maxRetryAfterMs: number;
  /**
   * When a Retry-After is longer than maxRetryAfterMs: give up at once (an upstream that bans,
   * like Binance's 418, extends the ban when we come back early) instead of waiting the maximum.
   */
  failOnLongRetryAfter?: boolean;
}

export const defaultRetryPolicy: RetryPolicy = {
  retries: 3,
  minTimeoutMs: 500,
  timeoutMs: 10_000,
  maxRetryAfterMs: 30_000,
};

/** Tests keep the same retry logic with near-zero backoff so failure cases stay fast. */
export const testRetryPolicy: RetryPolicy = { retries: 2, minTimeoutMs: 10, timeoutMs: 5_000, maxRetryAfterMs: 200 };

/**
 * The policy for NODE_ENV, with UPSTREAM_TIMEOUT_MS (when set) as every attempt's timeout.
 * `own`: an upstream's own rules in place of the default. Tests keep testRetryPolicy's short
 * timings whatever the upstream, and only its `failOnLongRetryAfter` (a rule, not a timing).
 */
export function upstreamPolicy(
  config: { NODE_ENV: string; UPSTREAM_TIMEOUT_MS?: number | undefined },
  own?: RetryPolicy,
): RetryPolicy {
  const test = config.NODE_ENV === 'test';
  const policy = test
    ? own?.failOnLongRetryAfter
      ? { ...testRetryPolicy, failOnLongRetryAfter: true }
      : testRetryPolicy
    : (own ?? defaultRetryPolicy);
  return config.UPSTREAM_TIMEOUT_MS === undefined ? policy : { ...policy, timeoutMs: config.UPSTREAM_TIMEOUT_MS };
}

/** A call budget (requests per minute) shared by every request that names it. */
export type Budget = <R>(fn: () => Promise<R>) => Promise<R>;

export function limiter(perMinute: number): Budget {
  const throttle = pThrottle({ limit: perMinute, interval: 60_000 });
  return throttle(<T>(fn: () => Promise<T>) => fn()) as Budget;
}

/** For calls outside any budget (a token renewal, an upstream without a published limit). */
export const unlimited: Budget = (fn) => fn();
