import { TRPCError } from '@trpc/server';
import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { marketStrategies } from '../../db/schema';
import { TIMEFRAMES, type Strategy, type StrategyCreateInput } from '../../../shared/market';

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
  constructor(private readonly db: Db) {}

  async list(userId: string): Promise<Strategy[]> {
    const rows = await this.db.select().from(marketStrategies).where(eq(marketStrategies.userId, userId)).orderBy(asc(marketStrategies.id));
    return rows.map(toStrategy);
  }

  async create(userId: string, input: StrategyCreateInput): Promise<Strategy> {
    const [row] = await guardName(this.db.insert(marketStrategies).values({ ...input, userId }).returning(), input.name);
    return toStrategy(row!);
  }

  async update(userId: string, id: number, patch: Partial<StrategyCreateInput>): Promise<Strategy> {
    const [row] = await guardName(
      this.db
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
    const [row] = await this.db
      .delete(marketStrategies)
      .where(and(eq(marketStrategies.id, id), eq(marketStrategies.userId, userId)))
      .returning({ id: marketStrategies.id });
    if (!row) throw notFound();
    return row;
  }
}
