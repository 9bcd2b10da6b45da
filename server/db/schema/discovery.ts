import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/** Shared by every user (not user-owned): one row per (chain, address), newest 200 kept. */
export const tokens = pgTable(
  'tokens',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    chain: text().notNull(),
    address: text().notNull(),
    name: text().notNull(),
    symbol: text().notNull(),
    priceUsd: doublePrecision(),
    liquidityUsd: doublePrecision(),
    volume24hUsd: doublePrecision(),
    fdvUsd: doublePrecision(),
    pairCreatedAt: timestamp({ withTimezone: true }),
    url: text(),
    iconUrl: text(),
    riskScore: integer().notNull(),
    isSafe: boolean().notNull(),
    verified: boolean().notNull(),
    risks: jsonb().$type<string[]>().notNull(),
    // First discovery: FIFO order. A re-discovered token keeps it and only updates its facts.
    discoveredAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    lastScanId: bigint({ mode: 'number' }),
  },
  (t) => [
    uniqueIndex('tokens_chain_address_idx').on(t.chain, t.address),
    index('tokens_discovered_at_idx').on(t.discoveredAt, t.id),
  ],
);

export const discoveryScans = pgTable(
  'discovery_scans',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    // A user id, or 'auto' for the scheduler.
    triggeredBy: text().notNull(),
    maxTokens: integer().notNull(),
    chain: text(),
    status: text({ enum: ['running', 'completed', 'failed'] })
      .notNull()
      .default('running'),
    startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp({ withTimezone: true }),
    candidates: integer().notNull().default(0),
    newTokens: integer().notNull().default(0),
    updatedTokens: integer().notNull().default(0),
    safe: integer().notNull().default(0),
    risky: integer().notNull().default(0),
    unverified: integer().notNull().default(0),
    error: text(),
  },
  (t) => [index('discovery_scans_started_at_idx').on(t.startedAt)],
);

/** A single row (id = 1): the admin's auto-discovery choice, so it survives a restart. */
export const discoverySettings = pgTable(
  'discovery_settings',
  {
    id: integer().primaryKey().default(1),
    autoActive: boolean().notNull(),
    intervalSeconds: integer().notNull(),
    maxTokens: integer().notNull(),
    updatedBy: text(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('discovery_settings_single_row', sql`${t.id} = 1`)],
);

/** Backs the resumable `discovery.events` stream; pruned to the newest few thousand rows. */
export const discoveryEvents = pgTable('discovery_events', {
  id: bigserial({ mode: 'number' }).primaryKey(),
  type: text().notNull(),
  payload: jsonb().notNull(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});
