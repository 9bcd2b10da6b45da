import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * One upstream credential (admin-managed, not user-owned). The secrets are one AES-256-GCM
 * ciphertext; key id, IV and tag sit beside it so a rotated key can still open old rows.
 */
export const vaultSessions = pgTable(
  'vault_sessions',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    provider: text().notNull(),
    label: text().notNull(),
    status: text({ enum: ['active', 'expired', 'error', 'requires_configuration'] }).notNull(),
    secretKeyId: text().notNull(),
    secretIv: text().notNull(),
    secretTag: text().notNull(),
    secretCiphertext: text().notNull(),
    // Bumped on every change of the secrets: a refresher that waited for the lock compares it.
    version: integer().notNull().default(1),
    expiresAt: timestamp({ withTimezone: true }),
    lastRefreshAt: timestamp({ withTimezone: true }),
    lastError: text(),
    // Consecutive failed refreshes; the scheduler waits until retryAfter before the next one.
    failures: integer().notNull().default(0),
    retryAfter: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('vault_sessions_provider_label_idx').on(t.provider, t.label)],
);

/**
 * Backs the resumable `vault.events` stream and the attempt history: every refresh attempt
 * (trigger, outcome, duration) plus saves and scheduler changes. Never holds a secret.
 */
export const vaultEvents = pgTable(
  'vault_events',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    type: text().notNull(),
    sessionId: bigint({ mode: 'number' }),
    payload: jsonb().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('vault_events_session_idx').on(t.sessionId, t.id)],
);

/** A single row (id = 1): the admin's scheduler choice, so it survives a restart. */
export const vaultSettings = pgTable(
  'vault_settings',
  {
    id: integer().primaryKey().default(1),
    active: boolean().notNull(),
    intervalMinutes: integer().notNull(),
    lastRunAt: timestamp({ withTimezone: true }),
    updatedBy: text(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('vault_settings_single_row', sql`${t.id} = 1`)],
);
