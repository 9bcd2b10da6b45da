import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './auth';

/**
 * The durable per-user inbox. Every event addressed to one user lands here first, so a
 * subscription can replay what a client missed from its last event id (the bigserial).
 */
export const inboxEvents = pgTable(
  'inbox_events',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    feature: text().notNull(),
    type: text().notNull(),
    payload: jsonb().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('inbox_events_user_id_id_idx').on(t.userId, t.id)],
);
