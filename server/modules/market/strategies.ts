import { TRPCError } from '@trpc/server';
import { and, asc, count, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { marketStrategies } from '../../db/schema';
import { AppError } from '../../errors';
import { MAX_STRATEGIES_PER_USER, TIMEFRAMES, type Strategy, type StrategyCreateInput } from '../../../shared/market';

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

const isUniqueViolation = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && ((err as { code?: string }).code === '23505' || isUniqueViolation((err as { cause?: unknown }).cause));

const notFound = () => new TRPCError({ code: 'NOT_FOUND', message: 'No such strategy among yours: it may have been deleted.' });

async function guardName<T>(work: Promise<T>, name: string | undefined): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (isUniqueViolation(err)) throw new TRPCError({ code: 'CONFLICT', message: `You already have a strategy named "${name}" on this timeframe: pick another name.` });
    throw err;
  }
}

/** Three starting points per timeframe, disabled until the user turns them on. */
export const DEFAULT_STRATEGIES: Omit<StrategyCreateInput, 'timeframe'>[] = [
  { name: 'RSI reversal', symbol: 'BTCUSDT', rule: { type: 'rsi', oversold: 30, overbought: 70 }, positionSize: 1000, takeProfitPct: 2, stopLossPct: 1, enabled: false },
  { name: 'EMA 9/21 cross', symbol: 'BTCUSDT', rule: { type: 'ema_cross' }, positionSize: 1000, takeProfitPct: 3, stopLossPct: 1.5, enabled: false },
  { name: 'MACD cross', symbol: 'BTCUSDT', rule: { type: 'macd_cross' }, positionSize: 1000, takeProfitPct: 2.5, stopLossPct: 1.2, enabled: false },
];

/** Runs inside the sign-up transaction (see createApp's onUserCreated). */
export async function seedDefaultStrategies(tx: Db, userId: string) {
  await tx.insert(marketStrategies).values(TIMEFRAMES.flatMap((timeframe) => DEFAULT_STRATEGIES.map((s) => ({ ...s, timeframe, userId }))));
}

/** Every query filters by the caller: another user's strategy id is NOT_FOUND, never FORBIDDEN. */
export class StrategyService {
  constructor(private readonly deps: { db: Db }) {}

  /** Oldest first, `limit` at a time; `nextCursor` is null on the last page. */
  async list(userId: string, cursor: number | null, limit: number): Promise<{ items: Strategy[]; nextCursor: number | null }> {
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
    const work = this.deps.db.transaction(async (tx) => {
      // Calls of one HTTP batch run concurrently: the per-user lock makes count-then-insert atomic.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`market_strategies:${userId}`}))`);
      const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(marketStrategies).where(eq(marketStrategies.userId, userId));
      if (n >= MAX_STRATEGIES_PER_USER) {
        throw new AppError('CONFLICT', `You have ${MAX_STRATEGIES_PER_USER} strategies, the most one account may keep: delete one before adding another.`);
      }
      return tx.insert(marketStrategies).values({ ...input, userId }).returning();
    });
    const [row] = await guardName(work, input.name);
    return toStrategy(row!);
  }

  async update(userId: string, id: number, patch: Partial<StrategyCreateInput>): Promise<Strategy> {
    const [row] = await guardName(
      this.deps.db
        .update(marketStrategies)
        .set({ ...patch, updatedAt: new Date() })
        .where(and(eq(marketStrategies.id, id), eq(marketStrategies.userId, userId)))
        .returning(),
      patch.name,
    );
    if (!row) throw notFound();
    return toStrategy(row);
  }

  setEnabled(userId: string, id: number, enabled: boolean): Promise<Strategy> {
    return this.update(userId, id, { enabled });
  }

  /** Its open position goes with it (cascade); completed trades stay. */
  async remove(userId: string, id: number): Promise<{ id: number }> {
    const [row] = await this.deps.db
      .delete(marketStrategies)
      .where(and(eq(marketStrategies.id, id), eq(marketStrategies.userId, userId)))
      .returning({ id: marketStrategies.id });
    if (!row) throw notFound();
    return row;
  }
}
