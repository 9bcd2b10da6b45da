import { UpstreamError } from '../../upstream/error';
import { unlimited, type RetryPolicy } from '../../upstream/policy';
import { requestJson } from '../../upstream/request';
import { TIMEFRAME_MS, type Candle, type Timeframe } from '../../../shared/market';

const PAGE = 1000;
const SERVICE = 'Binance';

// 429 asks us to slow down and 418 means banned: both say how long in Retry-After. Coming back
// before a ban ends extends it, so a wait longer than 10 s ends the call instead.
const POLICY: RetryPolicy = { retries: 3, minTimeoutMs: 200, maxTimeoutMs: 2_000, timeoutMs: 10_000, maxRetryAfterMs: 10_000, failOnLongRetryAfter: true };

/** Binance said the symbol does not exist (code -1121). */
export class UnknownSymbolError extends Error {}

type Row = [number, string, string, string, string, string, number, string, number, ...unknown[]];

/** Binance sends prices and volumes as decimal strings; anything else is NaN (and refused). */
export const decimal = (v: unknown): number => (typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN);

const validRow = (r: unknown): r is Row => {
  if (!Array.isArray(r) || r.length < 9) return false;
  const [open, close, trades] = [r[0], r[6], r[8]];
  const prices = [r[1], r[2], r[3], r[4], r[5]].map(decimal);
  return Number.isSafeInteger(open) && Number.isSafeInteger(close) && close > open && Number.isSafeInteger(trades) && prices.every((v) => Number.isFinite(v) && v >= 0);
};

const toCandle = (r: Row): Candle => ({ openTime: r[0], open: +r[1], high: +r[2], low: +r[3], close: +r[4], volume: +r[5], closeTime: r[6], trades: r[8] });

/** REST klines: history on first request and the candles missed while the stream was down. */
export class BinanceRest {
  private readonly policy: RetryPolicy;

  /** `timeoutMs`: per attempt (UPSTREAM_TIMEOUT_MS); 10 s when absent. */
  constructor(private readonly deps: { baseUrl: string; timeoutMs?: number | undefined }) {
    this.policy = deps.timeoutMs === undefined ? POLICY : { ...POLICY, timeoutMs: deps.timeoutMs };
  }

  private async page(symbol: string, tf: Timeframe, params: { startTime?: number; endTime?: number; limit: number }): Promise<Candle[]> {
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
      policy: this.policy,
      rateLimitStatuses: [429, 418],
      errorBody: (status, body) => {
        const { code, msg } = (body ?? {}) as { code?: number; msg?: string };
        if (code === -1121) return new UnknownSymbolError(`Binance does not know the symbol ${symbol}.`);
        if (status < 500 && status !== 429 && status !== 418) return new UpstreamError(SERVICE, status, `Binance klines failed: ${status} ${msg ?? ''}`.trim());
        return undefined;
      },
    });
    // Checked, not cast: a row of another shape must fail the call, never become a NaN candle.
    if (!Array.isArray(rows) || !rows.every(validRow)) throw new UpstreamError(SERVICE, 502, 'Binance sent klines in an unexpected format');
    return rows.map(toCandle);
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
