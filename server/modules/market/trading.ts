import { and, desc, eq, lt } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { marketPositions, marketStrategies, marketTrades } from '../../db/schema';
import type { Logger } from '../../log';
import type { Inbox, InboxItem } from '../../realtime/inbox';
import type { Tx } from '../../realtime/record';
import {
  MARKET_FEATURE,
  type Indicators,
  type Position,
  type StrategyRule,
  type Timeframe,
  type Trade,
  type TradeReason,
} from '../../../shared/market';
import type { StoredCandle } from './candle-store';

type PositionRow = typeof marketPositions.$inferSelect;
type StrategyRow = typeof marketStrategies.$inferSelect;
type TradeRow = typeof marketTrades.$inferSelect;
export type { PositionRow };

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
const crossed = (pa: number, pb: number, ca: number, cb: number): Signal =>
  pa <= pb && ca > cb ? 'enter' : pa >= pb && ca < cb ? 'exit' : null;

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

/**
 * Closes an open position inside the caller's transaction (Inbox.withEvents): deletes it,
 * records the trade and emits the user's notification; nothing when someone else closed it first.
 */
export async function closePosition(
  tx: Tx,
  emit: (item: InboxItem) => void,
  p: PositionRow,
  strategyName: string,
  exit: { price: number; reason: TradeReason; at: Date },
) {
  const [gone] = await tx
    .delete(marketPositions)
    .where(and(eq(marketPositions.id, p.id), eq(marketPositions.userId, p.userId)))
    .returning({ id: marketPositions.id });
  if (!gone) return;
  const pnl = (exit.price - p.entryPrice) * p.quantity;
  const [row] = await tx
    .insert(marketTrades)
    .values({
      userId: p.userId,
      strategyId: p.strategyId,
      strategyName,
      symbol: p.symbol,
      timeframe: p.timeframe,
      entryPrice: p.entryPrice,
      exitPrice: exit.price,
      quantity: p.quantity,
      pnl,
      pnlPct: ((exit.price - p.entryPrice) / p.entryPrice) * 100,
      reason: exit.reason,
      openedAt: p.openedAt,
      closedAt: exit.at,
    })
    .returning();
  const message = `${strategyName}: closed ${p.symbol} ${p.timeframe} (${exit.reason.replace('_', ' ')}) at ${exit.price}, P&L ${pnl.toFixed(2)}`;
  emit({
    userId: p.userId,
    feature: MARKET_FEATURE,
    type: 'position_closed',
    payload: { trade: toTrade(row!), message },
  });
}

/**
 * Paper trading on closed candles, every user's strategies. Evaluation runs on a queue of its
 * own per series, so users' trade transactions never hold up candle ingestion.
 */
export class TradingEngine {
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly deps: { db: Db; inbox: Inbox; log: Logger; onPositionsChanged: () => void }) {}

  /** Queues the evaluation of one closed candle (in candle order per series) and returns at once. */
  onClosed(symbol: string, tf: Timeframe, closed: StoredCandle, previous: Indicators | null) {
    const key = `${symbol}|${tf}`;
    const next = (this.queues.get(key) ?? Promise.resolve())
      .then(() => this.evaluate(symbol, tf, closed, previous))
      .catch((err) => this.deps.log.error({ err, symbol, tf }, 'strategy evaluation failed'));
    this.queues.set(key, next);
    void next.then(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
  }

  /** Waits for the evaluations queued so far on a series (tests, shutdown). */
  settled(symbol: string, tf: Timeframe): Promise<void> {
    return this.queues.get(`${symbol}|${tf}`) ?? Promise.resolve();
  }

  private async evaluate(symbol: string, tf: Timeframe, closed: StoredCandle, previous: Indicators | null) {
    // Every open position on the series is watched for its stop-loss and take-profit, whatever
    // its strategy's state; entries only for enabled strategies on this series.
    const open = await this.deps.db
      .select({ position: marketPositions, strategy: marketStrategies })
      .from(marketPositions)
      .leftJoin(marketStrategies, eq(marketStrategies.id, marketPositions.strategyId))
      .where(and(eq(marketPositions.symbol, symbol), eq(marketPositions.timeframe, tf)));
    const enabled = await this.deps.db
      .select()
      .from(marketStrategies)
      .where(
        and(
          eq(marketStrategies.symbol, symbol),
          eq(marketStrategies.timeframe, tf),
          eq(marketStrategies.enabled, true),
        ),
      );
    const holding = new Set(open.map((o) => o.position.strategyId));
    let changed = false;
    for (const { position, strategy } of open) {
      changed =
        (await this.attempt(position.strategyId, () => this.maybeClose(strategy, position, closed, previous))) ||
        changed;
    }
    for (const s of enabled) {
      if (holding.has(s.id) || signal(s.rule, previous, closed.indicators) !== 'enter') continue;
      changed = (await this.attempt(s.id, () => this.open(s, closed))) || changed;
    }
    if (changed) this.deps.onPositionsChanged();
  }

  private async attempt(strategyId: number, work: () => Promise<boolean>): Promise<boolean> {
    try {
      return await work();
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, strategyId }, 'strategy evaluation failed');
      return false;
    }
  }

  private async open(s: StrategyRow, closed: StoredCandle): Promise<boolean> {
    const entry = closed.candle.close;
    const { events } = await this.deps.inbox.withEvents(async (tx, emit) => {
      // The strategy may have been disabled, moved or deleted since it was read: the row lock
      // orders this against StrategyService's update and removal.
      const [current] = await tx
        .select({ id: marketStrategies.id })
        .from(marketStrategies)
        .where(
          and(
            eq(marketStrategies.id, s.id),
            eq(marketStrategies.enabled, true),
            eq(marketStrategies.symbol, s.symbol),
            eq(marketStrategies.timeframe, s.timeframe),
          ),
        )
        .for('update');
      if (!current) return;
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
      if (!row) return;
      const { markPrice: _m, unrealisedPnl: _u, ...position } = toPosition(row, null);
      // `message` is what the notification centre shows on any page.
      const message = `${s.name}: opened a paper position on ${s.symbol} ${s.timeframe} at ${entry}`;
      emit({ userId: s.userId, feature: MARKET_FEATURE, type: 'position_opened', payload: { position, message } });
    });
    return events.length > 0;
  }

  private async maybeClose(
    s: StrategyRow | null,
    p: PositionRow,
    closed: StoredCandle,
    previous: Indicators | null,
  ): Promise<boolean> {
    const c = closed.candle;
    // The rule's exit applies only while the strategy still trades this position's series.
    const ruleApplies = s !== null && s.enabled && s.symbol === p.symbol && s.timeframe === p.timeframe;
    // Within one candle we cannot know which came first; assume the worse (stop-loss).
    const [price, reason] =
      c.low <= p.stopLossPrice
        ? [p.stopLossPrice, 'stop_loss' as const]
        : c.high >= p.takeProfitPrice
          ? [p.takeProfitPrice, 'take_profit' as const]
          : ruleApplies && signal(s.rule, previous, closed.indicators) === 'exit'
            ? [c.close, 'signal' as const]
            : [null, null];
    if (price === null || reason === null) return false;
    const { events } = await this.deps.inbox.withEvents((tx, emit) =>
      closePosition(tx, emit, p, s?.name ?? 'Deleted strategy', { price, reason, at: new Date(c.closeTime + 1) }),
    );
    return events.length > 0;
  }
}

export async function listPositions(
  db: Db,
  userId: string,
  markPrice: (symbol: string, tf: Timeframe) => number | null,
): Promise<Position[]> {
  const rows = await db
    .select()
    .from(marketPositions)
    .where(eq(marketPositions.userId, userId))
    .orderBy(desc(marketPositions.id));
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
