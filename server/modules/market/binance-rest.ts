import pRetry, { AbortError } from 'p-retry';
import { TIMEFRAME_MS, type Candle, type Timeframe } from '../../../shared/market';

const PAGE = 1000;

/** Binance said the symbol does not exist (code -1121). */
export class UnknownSymbolError extends Error {}

type Row = [number, string, string, string, string, string, number, string, number, ...unknown[]];

const toCandle = (r: Row): Candle => ({ openTime: r[0], open: +r[1], high: +r[2], low: +r[3], close: +r[4], volume: +r[5], closeTime: r[6], trades: r[8] });

/** REST klines: history on first request and the candles missed while the stream was down. */
export class BinanceRest {
  constructor(private readonly baseUrl: string) {}

  private async page(symbol: string, tf: Timeframe, params: { startTime?: number; endTime?: number; limit: number }): Promise<Candle[]> {
    const url = new URL('/api/v3/klines', this.baseUrl);
    url.searchParams.set('symbol', symbol);
    url.searchParams.set('interval', tf);
    url.searchParams.set('limit', String(params.limit));
    if (params.startTime !== undefined) url.searchParams.set('startTime', String(params.startTime));
    if (params.endTime !== undefined) url.searchParams.set('endTime', String(params.endTime));
    return pRetry(
      async () => {
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        if (res.ok) return ((await res.json()) as Row[]).map(toCandle);
        const body = (await res.json().catch(() => ({}))) as { code?: number; msg?: string };
        if (body.code === -1121) throw new AbortError(new UnknownSymbolError(`Binance does not know the symbol ${symbol}.`));
        // 429 asks us to slow down and 418 means banned: both say how long in Retry-After.
        if (res.status === 429 || res.status === 418) {
          const wait = Number(res.headers.get('retry-after') ?? 1) * 1000;
          if (wait > 10_000) throw new AbortError(`Binance rate limit: retry after ${wait / 1000} s`);
          await new Promise((r) => setTimeout(r, wait));
          throw new Error(`Binance answered ${res.status}`);
        }
        if (res.status >= 500) throw new Error(`Binance answered ${res.status}`);
        throw new AbortError(`Binance klines failed: ${res.status} ${body.msg ?? ''}`);
      },
      { retries: 3, minTimeout: 200, maxTimeout: 2_000 },
    );
  }

  /**
   * Closed candles with openTime in [from, to). Without `to`, up to now: the last row
   * Binance returns is then the forming candle and is dropped.
   * With `from` null, only the latest `latest` closed candles (before `to`).
   */
  async closed(symbol: string, tf: Timeframe, opts: { from: number | null; to: number | null; latest: number }): Promise<Candle[]> {
    const step = TIMEFRAME_MS[tf];
    const endTime = opts.to === null ? undefined : opts.to - 1;
    let from = opts.from ?? (opts.to === null ? undefined : opts.to - opts.latest * step);
    if (from === undefined) {
      const rows = await this.page(symbol, tf, { limit: Math.min(opts.latest + 1, PAGE) });
      return rows.slice(0, -1);
    }
    const out: Candle[] = [];
    for (;;) {
      const rows = await this.page(symbol, tf, { startTime: from, endTime, limit: PAGE });
      const full = rows.length === PAGE;
      // The final row of an open-ended query is the forming candle; a full page's last row is re-read as the next page's first.
      const keep = endTime === undefined || full ? rows.slice(0, -1) : rows;
      out.push(...keep);
      if (!full) break;
      from = rows.at(-1)!.openTime;
    }
    return out;
  }
}
