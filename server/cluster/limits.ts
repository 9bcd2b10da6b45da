import { Redis } from 'ioredis';
import { lt } from 'drizzle-orm';
import { RateLimiterDrizzle, RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Db } from '../db/client';
import { rateLimits } from '../db/schema';
import type { Logger } from '../log';

export interface LimiterOptions {
  keyPrefix: string;
  points: number;
  /** Seconds. */
  duration: number;
}

/** Makes the rate limiters: their counters are shared by the whole cluster unless it is one process. */
export interface Limits {
  readonly store: 'memory' | 'postgres' | 'redis';
  limiter(opts: LimiterOptions): RateLimiterAbstract;
  /** Deletes expired Postgres counters (a retention job). */
  prune(): Promise<number>;
  close(): Promise<void>;
}

/**
 * PGlite: in memory (one process). With REDIS_URL: Redis. Otherwise Postgres, in rate_limits,
 * one atomic upsert per request. Whatever the store, a limiter never lets an outage of it
 * refuse every request: rate-limiter-flexible's insurance limiter (in memory) takes over.
 */
export function createLimits(opts: { kind: 'pglite' | 'postgres'; db: Db; redisUrl?: string; log: Logger }): Limits {
  const memory = (o: LimiterOptions) => new RateLimiterMemory(o);
  if (opts.kind !== 'postgres') {
    return { store: 'memory', limiter: memory, prune: async () => 0, close: async () => {} };
  }
  if (opts.redisUrl) {
    const redis = new Redis(opts.redisUrl, { enableOfflineQueue: false });
    redis.on('error', (err) => opts.log.warn({ err }, 'rate-limit store (redis) error'));
    return {
      store: 'redis',
      limiter: (o) => new RateLimiterRedis({ ...o, storeClient: redis, insuranceLimiter: memory(o) }),
      prune: async () => 0,
      close: async () => void (await redis.quit().catch(() => {})),
    };
  }
  return {
    store: 'postgres',
    // Expired rows are pruned by the retention job, not by a timer per limiter.
    limiter: (o) => new RateLimiterDrizzle({ ...o, storeClient: opts.db, schema: rateLimits, clearExpiredByTimeout: false, insuranceLimiter: memory(o) }),
    async prune() {
      const gone = await opts.db.delete(rateLimits).where(lt(rateLimits.expire, new Date())).returning({ key: rateLimits.key });
      return gone.length;
    },
    close: async () => {},
  };
}
