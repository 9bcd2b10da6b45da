import type { App } from '../../server/app';
import { marketCandles } from '../../server/db/schema';

/**
 * `n` distinct symbols the fake exchange serves (S0000USDT, S0001USDT, …): every test that needs
 * many series takes its symbols here, so a symbol catalogue only has to list them in one place.
 */
export function manySymbols(n: number, prefix = 'S'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}USDT`);
}

/**
 * One stored 1m candle per symbol, the minute before `at`: each series is then known (no history
 * fetch) and a push fills no long gap from REST, so a test can follow a thousand series quickly.
 */
export async function seedSeries(app: Pick<App, 'db'>, symbols: string[], at: number) {
  const t = Math.floor(at / 60_000) * 60_000 - 60_000;
  const empty = { sma20: null, ema9: null, ema21: null, rsi14: null, macd: null, bollinger: null };
  await app.db.insert(marketCandles).values(
    symbols.map((symbol) => ({
      symbol,
      timeframe: '1m' as const,
      openTime: t,
      closeTime: t + 59_999,
      open: 1,
      high: 1,
      low: 1,
      close: 1,
      volume: 1,
      trades: 1,
      indicators: empty,
    })),
  );
}
