import { once } from 'node:events';
import { Redis } from 'ioredis';
import { lt, sql } from 'drizzle-orm';
import {
  RateLimiterDrizzle,
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { Db } from '../db/client';
import { rateLimits } from '../db/schema';
import type { Logger } from '../log';
import { take, type Taken } from './take';

export interface LimiterOptions {
  keyPrefix: string;
  points: number;
  /** Seconds. */
  duration: number;
}

/**
 * A limit counted in the work's own transaction when the counters live in that database: the
 * count is the transaction's first statement (before the work, as `take` requires), and a hot
 * path saves the round trip and the commit a count of its own costs. Elsewhere (memory, Redis)
 * it is a `take` before the work. Commit a refusal (return, then throw): a rollback forgets the count.
 */
export interface WorkLimiter {
  /** Counts here when the store is not the database; `{ ok: true }` without counting when it is. */
  before(key: string): Promise<Taken>;
  /**
   * Counts one call per key, in order, inside `tx` when the store is the database (one statement
   * for all of them: a key twice is two calls of its owner, counted as if one after the other);
   * `{ ok: true }` for each without counting otherwise.
   */
  within(tx: Db, keys: readonly string[]): Promise<Taken[]>;
}

/** Makes the rate limiters: their counters are shared by the whole cluster unless it is one process. */
export interface Limits {
  readonly store: 'memory' | 'postgres' | 'redis';
  limiter(opts: LimiterOptions): RateLimiterAbstract;
  workLimiter(opts: LimiterOptions): WorkLimiter;
  /** Deletes expired Postgres counters (a retention job). */
  prune(): Promise<number>;
  /** Resolves once the store answers (Redis connected); until then the in-memory insurance limiter counts. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * PGlite: in memory (one process). With REDIS_URL: Redis. Otherwise Postgres, in rate_limits,
 * one atomic upsert per request. Whatever the store, a limiter never lets an outage of it
 * refuse every request: rate-limiter-flexible's insurance limiter (in memory) takes over.
 * In Redis the keys start with the cluster's bus channel: clusters sharing one Redis (each with
 * its own BUS_CHANNEL, and maybe its own database) must not count each other's requests.
 */
export function createLimits(opts: {
  kind: 'pglite' | 'postgres';
  db: Db;
  redisUrl?: string;
  channel: string;
  log: Logger;
}): Limits {
  const memory = (o: LimiterOptions) => new RateLimiterMemory(o);
  const counted: Taken = { ok: true, consumed: 0 };
  const beforeOnly = (limiter: (o: LimiterOptions) => RateLimiterAbstract) => (o: LimiterOptions) => {
    const l = limiter(o);
    return {
      before: (key: string) => take(l, key),
      within: async (_tx: Db, keys: readonly string[]) => keys.map(() => counted),
    };
  };
  if (opts.kind !== 'postgres') {
    return {
      store: 'memory',
      limiter: memory,
      workLimiter: beforeOnly(memory),
      prune: async () => 0,
      ready: async () => {},
      close: async () => {},
    };
  }
  if (opts.redisUrl) {
    const redis = new Redis(opts.redisUrl, { enableOfflineQueue: false });
    redis.on('error', (err) => opts.log.warn({ err }, 'rate-limit store (redis) error'));
    const limiter = (o: LimiterOptions) =>
      new RateLimiterRedis({
        ...o,
        keyPrefix: `${opts.channel}:${o.keyPrefix}`,
        storeClient: redis,
        insuranceLimiter: memory(o),
      });
    return {
      store: 'redis',
      limiter,
      workLimiter: beforeOnly(limiter),
      prune: async () => 0,
      ready: () => (redis.status === 'ready' ? Promise.resolve() : once(redis, 'ready').then(() => {})),
      close: async () => void (await redis.quit().catch(() => {})),
    };
  }
  return {
    store: 'postgres',
    // Expired rows are pruned by the retention job, not by a timer per limiter.
    limiter: (o) =>
      new RateLimiterDrizzle({
        ...o,
        storeClient: opts.db,
        schema: rateLimits,
        clearExpiredByTimeout: false,
        insuranceLimiter: memory(o),
      }),
    workLimiter: (o) => ({ before: async () => counted, within: (tx, keys) => takeWithin(tx, o, keys) }),
    async prune() {
      const gone = await opts.db
        .delete(rateLimits)
        .where(lt(rateLimits.expire, new Date()))
        .returning({ key: rateLimits.key });
      return gone.length;
    },
    ready: async () => {},
    close: async () => {},
  };
}

/**
 * RateLimiterDrizzle's upsert (same row, key and window rule), inside the caller's transaction,
 * so instances running either count the same limit: one row per key, adding that key's calls at
 * once; the n calls of a key are its last n points, in order. The rows stay locked until that
 * commit; keys are upserted in sorted order, so two transactions never wait on each other in a circle.
 */
async function takeWithin(tx: Db, o: LimiterOptions, keys: readonly string[]): Promise<Taken[]> {
  if (keys.length === 0) return [];
  const now = new Date();
  const next = new Date(now.getTime() + o.duration * 1000);
  const calls = new Map<string, number>();
  for (const key of keys) calls.set(key, (calls.get(key) ?? 0) + 1);
  const expired = sql`${rateLimits.expire} <= ${sql.param(now, rateLimits.expire)}`;
  const rows = await tx
    .insert(rateLimits)
    .values(
      [...calls]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, n]) => ({ key: `${o.keyPrefix}:${key}`, points: n, expire: next })),
    )
    .onConflictDoUpdate({
      target: rateLimits.key,
      set: {
        points: sql`case when ${expired} then excluded.points else ${rateLimits.points} + excluded.points end`,
        expire: sql`case when ${expired} then excluded.expire else ${rateLimits.expire} end`,
      },
    })
    .returning({ key: rateLimits.key, points: rateLimits.points, expire: rateLimits.expire });
  const byKey = new Map(rows.map((r) => [r.key.slice(o.keyPrefix.length + 1), r]));
  const seen = new Map<string, number>();
  return keys.map((key) => {
    const row = byKey.get(key)!;
    const nth = (seen.get(key) ?? 0) + 1;
    seen.set(key, nth);
    const consumed = row.points - calls.get(key)! + nth;
    if (consumed <= o.points) return { ok: true, consumed };
    const left = row.expire ? row.expire.getTime() - now.getTime() : 1000;
    return { ok: false, waitSeconds: Math.max(1, Math.ceil(left / 1000)) };
  });
}
