import { bigserial, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Bus messages too large for one NOTIFY (8,000 bytes): the notification carries this row's id
 * and every listener reads the payload back. Pruned by retention; a row is only needed until
 * every instance has read it, a few milliseconds after its commit.
 */
export const busPayloads = pgTable(
  'bus_payloads',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    payload: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('bus_payloads_created_at_idx').on(t.createdAt)],
);

/**
 * One row per running instance, refreshed every election round: who is alive (seen recently),
 * which singletons each leads, its upstream connections and bus lag, for system.stats and /metrics.
 * The elector reads and writes it with raw SQL (cluster/elector.ts); the table object stays for
 * drizzle-kit, which diffs these files against its snapshot: without it, the next
 * `drizzle-kit generate` would write a migration dropping the table.
 */
export const clusterInstances = pgTable('cluster_instances', {
  id: text().primaryKey(),
  startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  seenAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  leads: jsonb().$type<string[]>().notNull().default([]),
  upstreams: integer().notNull().default(0),
  busLagMs: integer(),
});

/**
 * Rate-limit counters shared by every instance (rate-limiter-flexible's Drizzle store), so a
 * limit counts requests wherever they land. Only with Postgres and no Redis; expired rows are pruned.
 */
export const rateLimits = pgTable('rate_limits', {
  key: text().primaryKey(),
  points: integer().notNull().default(0),
  expire: timestamp({ withTimezone: true }),
});
