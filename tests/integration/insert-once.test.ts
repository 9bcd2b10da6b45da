import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { insertOnce } from '../../server/db/insert-once';
import { marketCandles } from '../../server/db/schema';
import { createTestApp } from '../helpers/app';

const app = await createTestApp();

// Any table with a unique key will do; candles are unique per (symbol, timeframe, openTime).
let openTime = 1_700_000_000_000;
const candle = (close: number) => {
  openTime += 60_000;
  const t = openTime;
  return (c = close) => ({
    symbol: 'ONCEUSDT',
    timeframe: '1m' as const,
    openTime: t,
    closeTime: t + 59_999,
    open: c,
    high: c,
    low: c,
    close: c,
    volume: 1,
    trades: 1,
    indicators: { sma20: null, ema9: null, ema21: null, rsi14: null, macd: null, bollinger: null },
  });
};
const KEY = ['symbol', 'timeframe', 'openTime'] as const;

async function until(check: () => Promise<boolean>, what: string, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('insertOnce', () => {
  it('creates once and then returns the existing row, even when called twice at the same time', async () => {
    const values = candle(1);
    const first = await insertOnce(app.db, marketCandles, values(), KEY);
    const again = await insertOnce(app.db, marketCandles, values(2), KEY);
    expect(first.created).toBe(true);
    expect(again).toEqual({ row: first.row, created: false });
    expect(again.row.close).toBe(1);

    const both = candle(3);
    const [a, b] = await Promise.all([
      insertOnce(app.db, marketCandles, both(), KEY),
      insertOnce(app.db, marketCandles, both(4), KEY),
    ]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(a.row.id).toBe(b.row.id);
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'on Postgres, a call made while another transaction holds the same key waits and returns its row (needs DATABASE_URL)',
    async () => {
      const values = candle(5);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let second: Promise<Awaited<ReturnType<typeof insertOnce<typeof marketCandles, (typeof KEY)[number]>>>> | null =
        null;
      const first = app.db.transaction(async (tx) => {
        const r = await insertOnce(tx, marketCandles, values(), KEY);
        second = insertOnce(app.db, marketCandles, values(6), KEY);
        await held;
        return r;
      });
      // Commit only once the second call is really blocked on the first's uncommitted row.
      await until(async () => {
        const [row] = await app.db
          .select({ n: sql<number>`count(*)::int` })
          .from(sql`pg_stat_activity`)
          .where(sql`datname = current_database() and wait_event_type = 'Lock'`);
        return (row?.n ?? 0) > 0;
      }, 'the second call to wait on the first');
      release();
      const one = await first;
      const two = await second!;
      expect(one.created).toBe(true);
      expect(two).toEqual({ row: one.row, created: false });
    },
  );
});
