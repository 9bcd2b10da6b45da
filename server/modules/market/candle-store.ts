import { and, asc, count, desc, eq, gt, lt } from 'drizzle-orm';
import type { Db } from '../../db/client';
import type { StreamLog } from '../../realtime/record';
import { marketCandles } from '../../db/schema';
import type { Candle, Indicators, Timeframe } from '../../../shared/market';

export interface StoredCandle {
  id: number;
  candle: Candle;
  indicators: Indicators;
}

type Row = typeof marketCandles.$inferSelect;
const toStored = (r: Row): StoredCandle => ({
  id: r.id,
  candle: {
    openTime: r.openTime,
    closeTime: r.closeTime,
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume,
    trades: r.trades,
  },
  indicators: r.indicators,
});

/** One series' live stream: the bus topic and the stream lock share this key. */
export const candleStreamKey = (symbol: string, tf: Timeframe) => `market:candles:${symbol}:${tf}`;

const series = (symbol: string, tf: Timeframe) =>
  and(eq(marketCandles.symbol, symbol), eq(marketCandles.timeframe, tf));

export class CandleStore {
  constructor(private readonly deps: { db: Db; streams: StreamLog }) {}

  /**
   * Inserts closed candles and, after the commit, hands those that were new (a candle seen
   * twice is stored once) to `publish`, in time order.
   */
  insert(
    symbol: string,
    tf: Timeframe,
    items: { candle: Candle; indicators: Indicators }[],
    publish: (stored: StoredCandle[]) => void = () => {},
  ): Promise<StoredCandle[]> {
    if (items.length === 0) return Promise.resolve([]);
    return this.deps.streams.recordThenPublish(
      [candleStreamKey(symbol, tf)],
      async (tx) => {
        const rows = await tx
          .insert(marketCandles)
          .values(items.map(({ candle, indicators }) => ({ symbol, timeframe: tf, ...candle, indicators })))
          .onConflictDoNothing({ target: [marketCandles.symbol, marketCandles.timeframe, marketCandles.openTime] })
          .returning();
        return rows.map(toStored).sort((a, b) => a.candle.openTime - b.candle.openTime);
      },
      publish,
    );
  }

  /** The newest `limit` closed candles, oldest first. */
  async latest(symbol: string, tf: Timeframe, limit: number): Promise<StoredCandle[]> {
    const rows = await this.deps.db
      .select()
      .from(marketCandles)
      .where(series(symbol, tf))
      .orderBy(desc(marketCandles.openTime))
      .limit(limit);
    return rows.map(toStored).reverse();
  }

  async byId(symbol: string, tf: Timeframe, id: number): Promise<StoredCandle | null> {
    const [row] = await this.deps.db
      .select()
      .from(marketCandles)
      .where(and(series(symbol, tf), eq(marketCandles.id, id)));
    return row ? toStored(row) : null;
  }

  /**
   * Keeps the newest `keep` closed candles of every series, deleting older ones. A client whose
   * resume candle is gone is told to reload (resumeExpired); one whose candle is kept misses
   * nothing, since every newer candle is kept too.
   */
  async prune(keep: number): Promise<number> {
    const crowded = await this.deps.db
      .select({ symbol: marketCandles.symbol, timeframe: marketCandles.timeframe })
      .from(marketCandles)
      .groupBy(marketCandles.symbol, marketCandles.timeframe)
      .having(({ symbol }) => gt(count(symbol), keep));
    let removed = 0;
    for (const { symbol, timeframe } of crowded) {
      const [oldestKept] = await this.deps.db
        .select({ openTime: marketCandles.openTime })
        .from(marketCandles)
        .where(series(symbol, timeframe))
        .orderBy(desc(marketCandles.openTime))
        .offset(keep - 1)
        .limit(1);
      if (!oldestKept) continue;
      const gone = await this.deps.db
        .delete(marketCandles)
        .where(and(series(symbol, timeframe), lt(marketCandles.openTime, oldestKept.openTime)))
        .returning({ id: marketCandles.id });
      removed += gone.length;
    }
    return removed;
  }

  /** Whether any series has a candle with this id (a resume id from another series is bad input, not pruning). */
  async exists(id: number): Promise<boolean> {
    const [row] = await this.deps.db
      .select({ id: marketCandles.id })
      .from(marketCandles)
      .where(eq(marketCandles.id, id));
    return row !== undefined;
  }

  /** Closed candles that opened after `openTime`, in time order: what a resuming client missed. */
  async after(symbol: string, tf: Timeframe, openTime: number, limit: number): Promise<StoredCandle[]> {
    const rows = await this.deps.db
      .select()
      .from(marketCandles)
      .where(and(series(symbol, tf), gt(marketCandles.openTime, openTime)))
      .orderBy(asc(marketCandles.openTime))
      .limit(limit);
    return rows.map(toStored);
  }
}
