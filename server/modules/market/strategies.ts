import { and, asc, count, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { isUniqueViolation } from '../../db/unique-violation';
import { marketPositions, marketStrategies } from '../../db/schema';
import type { Inbox } from '../../realtime/inbox';
import { AppError } from '../../errors';
import { closePosition } from './trading';
import {
  MAX_STRATEGIES_PER_USER,
  TIMEFRAMES,
  type Strategy,
  type StrategyCreateInput,
  type Timeframe,
} from '../../../shared/market';

type Row = typeof marketStrategies.$inferSelect;
const toStrategy = (r: Row): Strategy => ({
  id: r.id,
  name: r.name,
  symbol: r.symbol,
  timeframe: r.timeframe,
  rule: r.rule,
  positionSize: r.positionSize,
  takeProfitPct: r.takeProfitPct,
  stopLossPct: r.stopLossPct,
  enabled: r.enabled,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const notFound = () => new AppError('NOT_FOUND', 'No such strategy among yours: it may have been deleted.');

/** `name` is read after the failure: an update that changes only the timeframe keeps the strategy's own name. */
async function guardName<T>(work: Promise<T>, name: () => string): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (isUniqueViolation(err))
      throw new AppError(
        'CONFLICT',
        `You already have a strategy named "${name()}" on this timeframe: pick another name.`,
      );
    throw err;
  }
}

/** Three starting points per timeframe, disabled until the user turns them on. */
export const DEFAULT_STRATEGIES: Omit<StrategyCreateInput, 'timeframe'>[] = [
  {
    name: 'RSI reversal',
    symbol: 'BTCUSDT',
    rule: { type: 'rsi', oversold: 30, overbought: 70 },
    positionSize: 1000,
    takeProfitPct: 2,
    stopLossPct: 1,
    enabled: false,
  },
  {
    name: 'EMA 9/21 cross',
    symbol: 'BTCUSDT',
    rule: { type: 'ema_cross' },
    positionSize: 1000,
    takeProfitPct: 3,
    stopLossPct: 1.5,
    enabled: false,
  },
  {
    name: 'MACD cross',
    symbol: 'BTCUSDT',
    rule: { type: 'macd_cross' },
    positionSize: 1000,
    takeProfitPct: 2.5,
    stopLossPct: 1.2,
    enabled: false,
  },
];

/** Runs inside the sign-up transaction (see createApp's onUserCreated). */
export async function seedDefaultStrategies(tx: Db, userId: string) {
  await tx
    .insert(marketStrategies)
    .values(TIMEFRAMES.flatMap((timeframe) => DEFAULT_STRATEGIES.map((s) => ({ ...s, timeframe, userId }))));
}

const seriesOf = (r: { symbol: string; timeframe: string }) => `${r.symbol} ${r.timeframe}`;

/**
 * Every query filters by the caller: another user's strategy id is NOT_FOUND, never FORBIDDEN.
 * A strategy's open position closes honestly: turning the strategy off or deleting it closes
 * the position at the series' last price and records the trade; moving a strategy with an
 * open position to another series is refused.
 */
export class StrategyService {
  constructor(
    private readonly deps: {
      db: Db;
      inbox: Inbox;
      /** The series' latest price (forming candle, else last close); null when nothing is known. */
      lastPrice: (symbol: string, tf: Timeframe) => Promise<number | null>;
      /** Which strategies are enabled (and which positions are open) changed. */
      onChange: () => void;
      /** Throws when the symbol is not listed, or (enabled) when a new series is past the user's budget. */
      admit?: (userId: string, symbol: string, tf: Timeframe, enabled: boolean) => Promise<void>;
    },
  ) {}

  /** Oldest first, `limit` at a time; `nextCursor` is null on the last page. */
  async list(
    userId: string,
    cursor: number | null,
    limit: number,
  ): Promise<{ items: Strategy[]; nextCursor: number | null }> {
    const rows = await this.deps.db
      .select()
      .from(marketStrategies)
      .where(and(eq(marketStrategies.userId, userId), cursor === null ? undefined : gt(marketStrategies.id, cursor)))
      .orderBy(asc(marketStrategies.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(toStrategy);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
  }

  async create(userId: string, input: StrategyCreateInput): Promise<Strategy> {
    await this.deps.admit?.(userId, input.symbol, input.timeframe, input.enabled);
    const work = this.deps.db.transaction(async (tx) => {
      // Calls of one HTTP batch run concurrently: the per-user lock makes count-then-insert atomic.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`market_strategies:${userId}`}))`);
      const [{ n } = { n: 0 }] = await tx
        .select({ n: count() })
        .from(marketStrategies)
        .where(eq(marketStrategies.userId, userId));
      if (n >= MAX_STRATEGIES_PER_USER) {
        throw new AppError(
          'CONFLICT',
          `You have ${MAX_STRATEGIES_PER_USER} strategies, the most one account may keep: delete one before adding another.`,
        );
      }
      return tx
        .insert(marketStrategies)
        .values({ ...input, userId })
        .returning();
    });
    const [row] = await guardName(work, () => input.name);
    if (row!.enabled) this.deps.onChange();
    return toStrategy(row!);
  }

  async update(userId: string, id: number, patch: Partial<StrategyCreateInput>): Promise<Strategy> {
    const current = await this.owned(userId, id);
    if (patch.symbol !== undefined || patch.timeframe !== undefined || patch.enabled === true) {
      await this.deps.admit?.(
        userId,
        patch.symbol ?? current.symbol,
        patch.timeframe ?? current.timeframe,
        patch.enabled ?? current.enabled,
      );
    }
    // Read before the transaction: the price comes from memory or one indexed row.
    const price = patch.enabled === false ? await this.exitPrice(current) : null;
    let name = patch.name ?? current.name;
    let updated: Row | undefined;
    await guardName(
      this.deps.inbox.withEvents(async (tx, emit) => {
        // The row lock orders this against the trading engine opening a position for it.
        const [locked] = await tx.select().from(marketStrategies).where(this.mine(userId, id)).for('update');
        if (!locked) throw notFound();
        name = patch.name ?? locked.name;
        const [position] = await tx.select().from(marketPositions).where(eq(marketPositions.strategyId, id));
        const symbol = patch.symbol ?? locked.symbol;
        const timeframe = patch.timeframe ?? locked.timeframe;
        // Turning it off in the same update closes the position first, so the move is then fine.
        if (position && patch.enabled !== false && (symbol !== position.symbol || timeframe !== position.timeframe)) {
          throw new AppError(
            'CONFLICT',
            `"${locked.name}" has an open position on ${seriesOf(position)}: turn the strategy off first (that closes the position at the last price), then move it to ${symbol} ${timeframe}.`,
          );
        }
        [updated] = await tx
          .update(marketStrategies)
          .set({ ...patch, updatedAt: new Date() })
          .where(this.mine(userId, id))
          .returning();
        if (!position || patch.enabled !== false) return;
        await closePosition(tx, emit, position, updated!.name, {
          price: price ?? position.entryPrice,
          reason: 'disabled',
          at: new Date(),
        });
      }),
      () => name,
    );
    if (!updated) throw notFound();
    this.deps.onChange();
    return toStrategy(updated);
  }

  setEnabled(userId: string, id: number, enabled: boolean): Promise<Strategy> {
    return this.update(userId, id, { enabled });
  }

  /** Its open position is closed at the last price first (reason "deleted"); completed trades stay. */
  async remove(userId: string, id: number): Promise<{ id: number }> {
    const current = await this.owned(userId, id);
    const price = await this.exitPrice(current);
    let removed: { id: number } | undefined;
    await this.deps.inbox.withEvents(async (tx, emit) => {
      const [locked] = await tx.select().from(marketStrategies).where(this.mine(userId, id)).for('update');
      if (!locked) throw notFound();
      const [position] = await tx.select().from(marketPositions).where(eq(marketPositions.strategyId, id));
      // The trade is recorded before the strategy goes (its strategyId is then set to null).
      if (position)
        await closePosition(tx, emit, position, locked.name, {
          price: price ?? position.entryPrice,
          reason: 'deleted',
          at: new Date(),
        });
      [removed] = await tx.delete(marketStrategies).where(this.mine(userId, id)).returning({ id: marketStrategies.id });
    });
    if (!removed) throw notFound();
    this.deps.onChange();
    return removed;
  }

  private mine(userId: string, id: number) {
    return and(eq(marketStrategies.id, id), eq(marketStrategies.userId, userId));
  }

  private async owned(userId: string, id: number): Promise<Row> {
    const [row] = await this.deps.db.select().from(marketStrategies).where(this.mine(userId, id));
    if (!row) throw notFound();
    return row;
  }

  /** The price an open position of this strategy would close at now, read from its position's series. */
  private async exitPrice(s: Row): Promise<number | null> {
    const [position] = await this.deps.db.select().from(marketPositions).where(eq(marketPositions.strategyId, s.id));
    return position ? this.deps.lastPrice(position.symbol, position.timeframe) : null;
  }
}
