import { sql } from 'drizzle-orm';
import { bigserial, doublePrecision, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { Timeframe } from '../../../shared/market';
import type { AlertType } from '../../../shared/market-alerts';
import { users } from './auth';

/**
 * Price and RSI alerts. Armed while `fired_at` is null; the firing instance sets it in the same
 * transaction as the user's `alert_fired` inbox event, guarded by `fired_at is null`, so an alert
 * fires once whatever the number of instances or restarts.
 */
export const marketAlerts = pgTable(
  'market_alerts',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    symbol: text().notNull(),
    timeframe: text().$type<Timeframe>().notNull(),
    type: text().$type<AlertType>().notNull(),
    value: doublePrecision().notNull(),
    firedAt: timestamp({ withTimezone: true }),
    /** The price or RSI the alert fired at. */
    firedValue: doublePrecision(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('market_alerts_user_id_id_idx').on(t.userId, t.id),
    // Start-up and the watched-series sync read the armed alerts only.
    index('market_alerts_armed_idx')
      .on(t.symbol, t.timeframe)
      .where(sql`${t.firedAt} is null`),
  ],
);
