import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { marketPositions, marketStrategies, marketTrades } from '../../db/schema';
import type { Logger } from '../../log';
import type { Inbox } from '../../realtime/inbox';
import { recordThenPublish } from '../../realtime/record';
import { MARKET_FEATURE, type Indicators, type Position, type StrategyRule, type Timeframe, type Trade } from '../../../shared/market';
import type { StoredCandle } from './candle-store';

type PositionRow = typeof marketPositions.$inferSelect;
type StrategyRow = typeof marketStrategies.$inferSelect;
type TradeRow = typeof marketTrades.$inferSelect;

export const toPosition = (r: PositionRow, markPrice: number | null): Position => ({
  id: r.id,
  strategyId: r.strategyId,
  symbol: r.symbol,
  timeframe: r.timeframe,
  side: 'long',
  entryPrice: r.entryPrice,
  quantity: r.quantity,
  takeProfitPrice: r.takeProfitPrice,
  stopLossPrice: r.stopLossPrice,
  openedAt: r.openedAt,
  markPrice,
  unrealisedPnl: markPrice === null ? null : (markPrice - r.entryPrice) * r.quantity,
});
const toTrade = (r: TradeRow): Trade => ({ ...r, side: 'long' });

type Signal = 'enter' | 'exit' | null;
const crossed = (pa: number, pb: number, ca: number, cb: number): Signal => (pa <= pb && ca > cb ? 'enter' : pa >= pb && ca < cb ? 'exit' : null);

/** Reads the indicators already attached to the candle; nothing is recomputed per strategy. */
export function signal(rule: StrategyRule, prev: Indicators | null, cur: Indicators): Signal {
  switch (rule.type) {
    case 'rsi':
      if (cur.rsi14 === null) return null;
      return cur.rsi14 < rule.oversold ? 'enter' : cur.rsi14 > rule.overbought ? 'exit' : null;
    case 'ema_cross':
      if (prev?.ema9 == null || prev.ema21 == null || cur.ema9 === null || cur.ema21 === null) return null;
      return crossed(prev.ema9, prev.ema21, cur.ema9, cur.ema21);
    case 'macd_cross':
      if (!prev?.macd || !cur.macd) return null;
      return crossed(prev.macd.macd, prev.macd.signal, cur.macd.macd, cur.macd.signal);
  }
}

/** Paper trading on closed candles: every enabled strategy of the series, every user. */
export class TradingEngine {
  constructor(private readonly deps: { db: Db; inbox: Inbox; log: Logger }) {}

  async onClosed(symbol: string, tf: Timeframe, closed: StoredCandle, previous: Indicators | null) {
    const strategies = await this.deps.db
      .select()
      .from(marketStrategies)
      .where(and(eq(marketStrategies.symbol, symbol), eq(marketStrategies.timeframe, tf), eq(marketStrategies.enabled, true)));
    if (strategies.length === 0) return;
    const open = await this.deps.db
      .select()
      .from(marketPositions)
      .where(inArray(marketPositions.strategyId, strategies.map((s) => s.id)));
    const byStrategy = new Map(open.map((p) => [p.strategyId, p]));
    for (const s of strategies) {
      try {
        const position = byStrategy.get(s.id);
        if (position) await this.maybeClose(s, position, closed, previous);
        else if (signal(s.rule, previous, closed.indicators) === 'enter') await this.open(s, closed);
      } catch (err) {
        this.deps.log.warn({ err: (err as Error).message, strategyId: s.id }, 'strategy evaluation failed');
      }
    }
  }

  private async open(s: StrategyRow, closed: StoredCandle) {
    const entry = closed.candle.close;
    await recordThenPublish(this.deps.db, [], async (tx) => {
      const [row] = await tx
        .insert(marketPositions)
        .values({
          userId: s.userId,
          strategyId: s.id,
          symbol: s.symbol,
          timeframe: s.timeframe,
          entryPrice: entry,
          quantity: s.positionSize / entry,
          takeProfitPrice: entry * (1 + s.takeProfitPct / 100),
          stopLossPrice: entry * (1 - s.stopLossPct / 100),
          openedAt: new Date(closed.candle.closeTime + 1),
        })
        .onConflictDoNothing({ target: marketPositions.strategyId })
        .returning();
      if (!row) return [];
      const { markPrice: _m, unrealisedPnl: _u, ...position } = toPosition(row, null);
      // `message` is what the notification centre shows on any page.
      const message = `${s.name}: opened a paper position on ${s.symbol} ${s.timeframe} at ${entry}`;
      return this.deps.inbox.record(tx, [{ userId: s.userId, feature: MARKET_FEATURE, type: 'position_opened', payload: { position, message } }]);
    }, (stored) => this.deps.inbox.publish(stored));
  }

  private async maybeClose(s: StrategyRow, p: PositionRow, closed: StoredCandle, previous: Indicators | null) {
    const c = closed.candle;
    // Within one candle we cannot know which came first; assume the worse (stop-loss).
    const [exit, reason] =
      c.low <= p.stopLossPrice
        ? [p.stopLossPrice, 'stop_loss' as const]
        : c.high >= p.takeProfitPrice
          ? [p.takeProfitPrice, 'take_profit' as const]
          : signal(s.rule, previous, closed.indicators) === 'exit'
            ? [c.close, 'signal' as const]
            : [null, null];
    if (exit === null || reason === null) return;
    const pnl = (exit - p.entryPrice) * p.quantity;
    await recordThenPublish(this.deps.db, [], async (tx) => {
      const [gone] = await tx
        .delete(marketPositions)
        .where(and(eq(marketPositions.id, p.id), eq(marketPositions.userId, p.userId)))
        .returning({ id: marketPositions.id });
      if (!gone) return [];
      const [row] = await tx
        .insert(marketTrades)
        .values({
          userId: p.userId,
          strategyId: s.id,
          strategyName: s.name,
          symbol: p.symbol,
          timeframe: p.timeframe,
          entryPrice: p.entryPrice,
          exitPrice: exit,
          quantity: p.quantity,
          pnl,
          pnlPct: ((exit - p.entryPrice) / p.entryPrice) * 100,
          reason,
          openedAt: p.openedAt,
          closedAt: new Date(c.closeTime + 1),
        })
        .returning();
      const message = `${s.name}: closed ${p.symbol} ${p.timeframe} (${reason.replace('_', ' ')}), P&L ${pnl.toFixed(2)}`;
      return this.deps.inbox.record(tx, [{ userId: p.userId, feature: MARKET_FEATURE, type: 'position_closed', payload: { trade: toTrade(row!), message } }]);
    }, (stored) => this.deps.inbox.publish(stored));
  }
}

export async function listPositions(db: Db, userId: string, markPrice: (symbol: string, tf: Timeframe) => number | null): Promise<Position[]> {
  const rows = await db.select().from(marketPositions).where(eq(marketPositions.userId, userId)).orderBy(desc(marketPositions.id));
  return rows.map((r) => toPosition(r, markPrice(r.symbol, r.timeframe)));
}

export async function listTrades(db: Db, userId: string, cursor: number | null, limit: number) {
  const rows = await db
    .select()
    .from(marketTrades)
    .where(and(eq(marketTrades.userId, userId), cursor ? lt(marketTrades.id, cursor) : undefined))
    .orderBy(desc(marketTrades.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit).map(toTrade);
  return { items, nextCursor: rows.length > limit ? items.at(-1)!.id : null };
}
