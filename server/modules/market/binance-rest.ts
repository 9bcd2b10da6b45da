import { UpstreamError } from '../../upstream/error';
import { unlimited, type RetryPolicy } from '../../upstream/policy';
import { requestJson } from '../../upstream/request';
import { TIMEFRAME_MS, type Candle, type Timeframe } from '../../../shared/market';

const PAGE = 1000;
const SERVICE = 'Binance';

// 429 asks us to slow down and 418 means banned: both say how long in Retry-After. Coming back
// before a ban ends extends it, so a wait longer than 10 s ends the call instead.
// Binance's own rules, given to upstreamPolicy (which keeps failOnLongRetryAfter in tests).
export const BINANCE_REST_POLICY: RetryPolicy = {
  retries: 3,
  minTimeoutMs: 200,
  maxTimeoutMs: 2_000,
  timeoutMs: 10_000,
  maxRetryAfterMs: 10_000,
  failOnLongRetryAfter: true,
};

/** Binance said the symbol does not exist (code -1121). */
export class UnknownSymbolError extends Error {}

type Row = [number, string, string, string, string, string, number, string, number, ...unknown[]];

/** Binance sends prices and volumes as decimal strings; anything else is NaN (and refused). */
export const decimal = (v: unknown): number => (typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN);

/** The largest trade count the `trades` column (a Postgres integer) holds. */
const MAX_TRADES = 2 ** 31 - 1;

/**
 * Whether every field fits our columns (bigint times, finite doubles, an integer trade count):
 * a candle that would fail its insert is refused when parsed, so it never blocks the ones around it.
 * Shared by the REST and the stream parser.
 */
export function storableCandle(c: Candle): boolean {
  const times =
    Number.isSafeInteger(c.openTime) &&
    Number.isSafeInteger(c.closeTime) &&
    c.openTime >= 0 &&
    c.closeTime > c.openTime;
  const trades = Number.isSafeInteger(c.trades) && c.trades >= 0 && c.trades <= MAX_TRADES;
  return times && trades && [c.open, c.high, c.low, c.close, c.volume].every((v) => Number.isFinite(v) && v >= 0);
}

const toCandle = (r: unknown[]): Candle => ({
  openTime: r[0] as number,
  open: decimal(r[1]),
  high: decimal(r[2]),
  low: decimal(r[3]),
  close: decimal(r[4]),
  volume: decimal(r[5]),
  closeTime: r[6] as number,
  trades: r[8] as number,
});

const validRow = (r: unknown): r is Row => Array.isArray(r) && r.length >= 9 && storableCandle(toCandle(r));

/** REST klines: history on first request and the candles missed while the stream was down. */
export class BinanceRest {
  /** `policy`: `upstreamPolicy(config, BINANCE_REST_POLICY)`, as every upstream adapter's. */
  constructor(private readonly deps: { baseUrl: string; policy: RetryPolicy }) {}

  private async page(
    symbol: string,
    tf: Timeframe,
    params: { startTime?: number; endTime?: number; limit: number },
  ): Promise<Candle[]> {
    const url = new URL('/api/v3/klines', this.deps.baseUrl);
    url.searchParams.set('symbol', symbol);
    url.searchParams.set('interval', tf);
    url.searchParams.set('limit', String(params.limit));
    if (params.startTime !== undefined) url.searchParams.set('startTime', String(params.startTime));
    if (params.endTime !== undefined) url.searchParams.set('endTime', String(params.endTime));
    const rows = await requestJson<Row[]>({
      service: SERVICE,
      url,
      budget: unlimited,
      policy: this.deps.policy,
      rateLimitStatuses: [429, 418],
      errorBody: (status, body) => {
        const { code, msg } = (body ?? {}) as { code?: number; msg?: string };
        if (code === -1121) return new UnknownSymbolError(`Binance does not know the symbol ${symbol}.`);
        if (status < 500 && status !== 429 && status !== 418)
          return new UpstreamError(SERVICE, status, `Binance klines failed: ${status} ${msg ?? ''}`.trim());
        return undefined;
      },
    });
    // Checked, not cast: a row of another shape must fail the call, never become a NaN candle.
    if (!Array.isArray(rows) || !rows.every(validRow))
      throw new UpstreamError(SERVICE, 502, 'Binance sent klines in an unexpected format');
    return rows.map(toCandle);
  }

  /**
   * Closed candles with openTime in [from, to). Without `to`, up to now: the last row
   * Binance returns is then the forming candle and is dropped.
   * With `from` null, only the latest `latest` closed candles (before `to`).
   */
  async closed(
    symbol: string,
    tf: Timeframe,
    opts: { from: number | null; to: number | null; latest: number },
  ): Promise<Candle[]> {
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
