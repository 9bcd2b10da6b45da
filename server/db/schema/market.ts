import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { Indicators, StrategyRule, Timeframe, TradeReason } from '../../../shared/market';
import { users } from './auth';

/** Closed candles shared by every viewer; the bigserial is the live stream's resume id. */
export const marketCandles = pgTable(
  'market_candles',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    symbol: text().notNull(),
    timeframe: text().$type<Timeframe>().notNull(),
    openTime: bigint({ mode: 'number' }).notNull(),
    closeTime: bigint({ mode: 'number' }).notNull(),
    open: doublePrecision().notNull(),
    high: doublePrecision().notNull(),
    low: doublePrecision().notNull(),
    close: doublePrecision().notNull(),
    volume: doublePrecision().notNull(),
    trades: integer().notNull().default(0),
    indicators: jsonb().$type<Indicators>().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('market_candles_series_open_idx').on(t.symbol, t.timeframe, t.openTime)],
);

export const marketStrategies = pgTable(
  'market_strategies',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text().notNull(),
    symbol: text().notNull(),
    timeframe: text().$type<Timeframe>().notNull(),
    rule: jsonb().$type<StrategyRule>().notNull(),
    positionSize: doublePrecision().notNull(),
    takeProfitPct: doublePrecision().notNull(),
    stopLossPct: doublePrecision().notNull(),
    enabled: boolean().notNull().default(false),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('market_strategies_user_id_idx').on(t.userId),
    uniqueIndex('market_strategies_user_name_tf_idx').on(t.userId, t.name, t.timeframe),
    // Each closed candle looks up the enabled strategies of its series.
    index('market_strategies_series_idx').on(t.symbol, t.timeframe, t.enabled),
  ],
);

/** Open paper positions: at most one per strategy. */
export const marketPositions = pgTable(
  'market_positions',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    strategyId: bigint({ mode: 'number' })
      .notNull()
      .references(() => marketStrategies.id, { onDelete: 'cascade' }),
    symbol: text().notNull(),
    timeframe: text().$type<Timeframe>().notNull(),
    entryPrice: doublePrecision().notNull(),
    quantity: doublePrecision().notNull(),
    takeProfitPrice: doublePrecision().notNull(),
    stopLossPrice: doublePrecision().notNull(),
    openedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [
    index('market_positions_user_id_idx').on(t.userId),
    uniqueIndex('market_positions_strategy_idx').on(t.strategyId),
  ],
);

/** Completed paper trades; the strategy may be deleted later, so its name is kept. */
export const marketTrades = pgTable(
  'market_trades',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    strategyId: bigint({ mode: 'number' }).references(() => marketStrategies.id, { onDelete: 'set null' }),
    strategyName: text().notNull(),
    symbol: text().notNull(),
    timeframe: text().$type<Timeframe>().notNull(),
    entryPrice: doublePrecision().notNull(),
    exitPrice: doublePrecision().notNull(),
    quantity: doublePrecision().notNull(),
    pnl: doublePrecision().notNull(),
    pnlPct: doublePrecision().notNull(),
    reason: text().$type<TradeReason>().notNull(),
    openedAt: timestamp({ withTimezone: true }).notNull(),
    closedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index('market_trades_user_id_id_idx').on(t.userId, t.id)],
);
