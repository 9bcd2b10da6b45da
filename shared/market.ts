import { idCursor } from './cursor';
import { z } from 'zod';
import { text } from './text';
import type { AlertFiredEvent } from './market-alerts';

export const TIMEFRAMES = ['1m', '5m', '15m', '1h', '4h', '1d'] as const;
export const ZTimeframe = z.enum(TIMEFRAMES, { error: `Timeframe must be one of ${TIMEFRAMES.join(', ')}.` });
export type Timeframe = z.infer<typeof ZTimeframe>;

export const TIMEFRAME_MS: Record<Timeframe, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '4h': 14_400_000,
  '1d': 86_400_000,
};

export const ZSymbol = text({ label: 'Symbols', required: 'Give a symbol, like BTCUSDT.', max: 20 })
  .toUpperCase()
  .pipe(z.string().regex(/^[A-Z0-9]{5,20}$/, { error: 'A symbol is 5 to 20 letters or digits, like BTCUSDT.' }));

export const ZCandle = z.object({
  openTime: z.number(),
  closeTime: z.number(),
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z.number(),
  trades: z.number(),
});
export type Candle = z.infer<typeof ZCandle>;

const n = z.number().nullable();
export const ZIndicators = z.object({
  sma20: n,
  ema9: n,
  ema21: n,
  rsi14: n,
  macd: z.object({ macd: z.number(), signal: z.number(), histogram: z.number() }).nullable(),
  bollinger: z.object({ upper: z.number(), middle: z.number(), lower: z.number() }).nullable(),
});
export type Indicators = z.infer<typeof ZIndicators>;

export const ZSeriesInput = z.object({ symbol: ZSymbol, timeframe: ZTimeframe });
export const ZCandlesInput = ZSeriesInput.extend({
  limit: z
    .number({ error: 'The number of candles must be a number.' })
    .int()
    .min(1, { error: 'The number of candles is at least 1.' })
    .max(1000, { error: 'The number of candles is at most 1000.' })
    .default(300),
});
export const ZStoredCandle = z.object({ id: z.number(), candle: ZCandle, indicators: ZIndicators });
export const ZCandlesOutput = z.object({ symbol: z.string(), timeframe: ZTimeframe, candles: z.array(ZStoredCandle) });

export const ZSymbolInfoInput = z.object({ symbol: ZSymbol });
/** What the exchange lists for a symbol: its PRICE_FILTER tick size (prices are shown to it), when given. */
export const ZSymbolInfo = z.object({ symbol: z.string(), tickSize: z.number().nullable() });

export const ZLiveInput = ZSeriesInput.extend({
  lastEventId: text({ label: 'Resume points', max: 18 })
    .regex(/^\d{1,18}$/, { error: 'The resume point must be the id of a candle this stream sent.' })
    .nullish(),
});
interface CandleEventFields {
  symbol: string;
  timeframe: Timeframe;
  candle: Candle;
  indicators: Indicators;
}
/** A closed candle: stored, tracked (its row id is the resume point). */
export interface ClosedCandleEvent extends CandleEventFields {
  closed: true;
}
/** The forming candle, pushed as it changes: live only, untracked, never replayed. */
export interface FormingCandleEvent extends CandleEventFields {
  closed: false;
}
/** What `market.live` delivers in `data`: `closed` tells the two apart. */
export type LiveEvent = ClosedCandleEvent | FormingCandleEvent;
/** One `market.live` message as a client receives it: closed candles tracked (`id`), forming ones not. */
export type LiveMessage = { id: string; data: ClosedCandleEvent } | { id?: undefined; data: FormingCandleEvent };

export const ZMarketStatsOutput = z.object({
  activeSessions: z.number(),
  totalSubscriptions: z.number(),
  sharedWebSockets: z.number(),
  timeframes: z.array(z.object({ timeframe: ZTimeframe, symbols: z.array(z.string()), connections: z.number() })),
  efficiency: z.object({
    traditionalConnections: z.number(),
    sharedConnections: z.number(),
    savedConnections: z.number(),
    savingsPercent: z.number(),
  }),
});
export type MarketStats = z.infer<typeof ZMarketStatsOutput>;

const level = (name: string) => {
  const error = `The ${name} level is a number from 1 to 99.`;
  return z.number({ error }).min(1, { error }).max(99, { error });
};

/** Entry/exit rules over the indicators computed once per candle. Long-only paper trading. */
export const ZStrategyRule = z.discriminatedUnion(
  'type',
  [
    z
      .object({
        type: z.literal('rsi'),
        oversold: level('oversold').default(30),
        overbought: level('overbought').default(70),
      })
      .refine((r) => r.oversold < r.overbought, { error: 'The oversold level must be below the overbought level.' }),
    z.object({ type: z.literal('ema_cross') }),
    z.object({ type: z.literal('macd_cross') }),
  ],
  { error: 'Choose a rule: RSI, EMA cross or MACD cross.' },
);
export type StrategyRule = z.infer<typeof ZStrategyRule>;

const strategyFields = {
  name: text({ label: 'Names', required: 'Name the strategy.', max: 60 }),
  symbol: ZSymbol,
  timeframe: ZTimeframe,
  rule: ZStrategyRule,
  positionSize: z
    .number({ error: 'Position size must be a number.' })
    .positive({ error: 'Position size must be above 0.' })
    .max(1e9, { error: 'Position size is at most 1,000,000,000.' }),
  takeProfitPct: z
    .number({ error: 'Take profit must be a number (a percentage).' })
    .positive({ error: 'Take profit must be above 0 %.' })
    .max(1000, { error: 'Take profit is at most 1000 %.' }),
  stopLossPct: z
    .number({ error: 'Stop loss must be a number (a percentage).' })
    .positive({ error: 'Stop loss must be above 0 %.' })
    .max(100, { error: 'Stop loss is at most 100 %.' }),
  enabled: z.boolean(),
};
export const ZStrategyCreateInput = z.object({ ...strategyFields, enabled: strategyFields.enabled.default(false) });
export type StrategyCreateInput = z.infer<typeof ZStrategyCreateInput>;
export const ZStrategyUpdateInput = z
  .object({ id: z.number().int().positive(), ...strategyFields })
  .partial()
  .required({ id: true });
export const ZStrategyIdInput = z.object({
  id: z.number({ error: 'Choose a strategy by its id (a number).' }).int().positive(),
});
export const ZStrategySetEnabledInput = ZStrategyIdInput.extend({ enabled: z.boolean() });

export const ZStrategy = z.object({
  id: z.number(),
  name: z.string(),
  symbol: z.string(),
  timeframe: ZTimeframe,
  rule: ZStrategyRule,
  positionSize: z.number(),
  takeProfitPct: z.number(),
  stopLossPct: z.number(),
  enabled: z.boolean(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type Strategy = z.infer<typeof ZStrategy>;

export const ZPosition = z.object({
  id: z.number(),
  strategyId: z.number(),
  symbol: z.string(),
  timeframe: ZTimeframe,
  side: z.literal('long'),
  entryPrice: z.number(),
  quantity: z.number(),
  takeProfitPrice: z.number(),
  stopLossPrice: z.number(),
  openedAt: z.date(),
  markPrice: z.number().nullable(),
  unrealisedPnl: z.number().nullable(),
});
export type Position = z.infer<typeof ZPosition>;

/** Why a paper position closed: its rule, a price level, or the user turning the strategy off or deleting it. */
export const TRADE_REASONS = ['signal', 'take_profit', 'stop_loss', 'disabled', 'deleted'] as const;
export type TradeReason = (typeof TRADE_REASONS)[number];

export const ZTrade = z.object({
  id: z.number(),
  strategyId: z.number().nullable(),
  strategyName: z.string(),
  symbol: z.string(),
  timeframe: ZTimeframe,
  side: z.literal('long'),
  entryPrice: z.number(),
  exitPrice: z.number(),
  quantity: z.number(),
  pnl: z.number(),
  pnlPct: z.number(),
  reason: z.enum(TRADE_REASONS),
  openedAt: z.date(),
  closedAt: z.date(),
});
export type Trade = z.infer<typeof ZTrade>;

/** Per user: enough for every timeframe several times over, small enough to list in one page. */
export const MAX_STRATEGIES_PER_USER = 100;
export const ZStrategiesListInput = z
  .object({
    cursor: idCursor(),
    limit: z
      .number({ error: 'The page size must be a whole number from 1 to 100.' })
      .int()
      .min(1, { error: 'The number of candles is at least 1.' })
      .max(MAX_STRATEGIES_PER_USER, { error: `The page size is at most ${MAX_STRATEGIES_PER_USER}.` })
      .default(MAX_STRATEGIES_PER_USER),
  })
  .optional();
export const ZStrategiesListOutput = z.object({ items: z.array(ZStrategy), nextCursor: z.number().nullable() });

export const ZTradesInput = z
  .object({ cursor: idCursor(), limit: z.number().int().min(1).max(200).default(50) })
  .optional();
export const ZTradesOutput = z.object({ items: z.array(ZTrade), nextCursor: z.number().nullable() });

export const MARKET_FEATURE = 'market';
export type MarketActivity =
  | { type: 'position_opened'; payload: { position: Omit<Position, 'markPrice' | 'unrealisedPnl'> } }
  | { type: 'position_closed'; payload: { trade: Trade } }
  | AlertFiredEvent;
