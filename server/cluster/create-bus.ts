import type { Config } from '../config';
import type { Database } from '../db/client';
import type { Logger } from '../log';
import { createMemoryBus, type EventBus } from '../realtime/bus';
import { failureReporter } from '../guarded';
import { PostgresBus } from './pg-bus';
import { RedisBus } from './redis-bus';

/**
 * Picks the bus: PGlite is one process (memory); on Postgres, Redis pub/sub when REDIS_URL is
 * set, LISTEN/NOTIFY otherwise. BUS_CHANNEL separates clusters (or test runs) sharing a broker.
 */
export async function createBus(
  config: Config,
  database: Database,
  instanceId: string,
  log: Logger,
): Promise<EventBus> {
  if (database.kind !== 'postgres' || !database.url) {
    if (config.REDIS_URL) log.warn('REDIS_URL is ignored on embedded PGlite: one process, in-memory bus');
    return createMemoryBus(failureReporter(log, 'bus handler'));
  }
  const opts = { channel: config.BUS_CHANNEL, instanceId, log };
  if (config.REDIS_URL) return RedisBus.start({ ...opts, url: config.REDIS_URL });
  return PostgresBus.start({ ...opts, url: database.url });
}
