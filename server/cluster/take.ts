import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export type Taken = { ok: true; consumed: number } | { ok: false; waitSeconds: number };

/**
 * The one way every limiter counts: `points` for `key` are taken before the work they stand
 * for, in one atomic step of the store (memory, one Postgres upsert, one Redis script). A check
 * followed by a count lets every call of a batch or a burst pass the check before any of them
 * is counted; taken first, each concurrent call sees its own count. `seconds` sets how long a
 * window that starts now lasts (instead of the limiter's own duration).
 */
export async function take(
  limiter: RateLimiterAbstract,
  key: string,
  opts: { points?: number; seconds?: number } = {},
): Promise<Taken> {
  try {
    const res = await limiter.consume(
      key,
      opts.points ?? 1,
      opts.seconds === undefined ? {} : { customDuration: opts.seconds },
    );
    return { ok: true, consumed: res.consumedPoints };
  } catch (res) {
    if (!(res instanceof RateLimiterRes)) throw res;
    return { ok: false, waitSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
  }
}

/** Gives back points taken for work the design says should not count (a success, say). */
export async function giveBack(limiter: RateLimiterAbstract, key: string, points = 1): Promise<void> {
  await limiter.reward(key, points);
}
