import { once } from 'node:events';
import { Redis } from 'ioredis';
import { lt } from 'drizzle-orm';
import {
  RateLimiterDrizzle,
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
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
  if (opts.kind !== 'postgres') {
    return { store: 'memory', limiter: memory, prune: async () => 0, ready: async () => {}, close: async () => {} };
  }
  if (opts.redisUrl) {
    const redis = new Redis(opts.redisUrl, { enableOfflineQueue: false });
    redis.on('error', (err) => opts.log.warn({ err }, 'rate-limit store (redis) error'));
    return {
      store: 'redis',
      limiter: (o) =>
        new RateLimiterRedis({
          ...o,
          keyPrefix: `${opts.channel}:${o.keyPrefix}`,
          storeClient: redis,
          insuranceLimiter: memory(o),
        }),
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
