import { z } from 'zod';
import { AppError } from '../../errors';
import type { Logger } from '../../log';
import { guarded } from '../../guarded';
import { unlimited, type RetryPolicy } from '../../upstream/policy';
import { requestJson } from '../../upstream/request';
import { UpstreamError } from '../../upstream/error';

const SERVICE = 'Binance';
/** Binance's rules for this call, given to upstreamPolicy like BINANCE_REST_POLICY. */
export const EXCHANGE_INFO_POLICY: RetryPolicy = {
  retries: 2,
  minTimeoutMs: 200,
  maxTimeoutMs: 2_000,
  timeoutMs: 10_000,
  maxRetryAfterMs: 10_000,
  failOnLongRetryAfter: true,
};
/** After a failed load, the next one a caller may start comes at least this much later (exchangeInfo weighs 20). */
const RETRY_GAP_MS = 2_000;

export interface ListedSymbol {
  baseAsset: string;
  quoteAsset: string;
  /** PRICE_FILTER's tickSize: prices are shown to it. */
  tickSize: number | null;
}

// Only what we use is checked; Binance adds fields freely.
const ZExchangeInfo = z.object({
  symbols: z.array(
    z.object({
      symbol: z.string(),
      status: z.string(),
      baseAsset: z.string(),
      quoteAsset: z.string(),
      filters: z.array(z.looseObject({ filterType: z.string(), tickSize: z.string().optional() })).default([]),
    }),
  ),
});

/**
 * The exchange's TRADING symbols, from GET /api/v3/exchangeInfo: loaded on first use, refreshed
 * every `refreshMs`, so a symbol Binance does not list costs no upstream call at all. Each
 * instance of a cluster keeps its own copy. A failed refresh keeps the previous list.
 */
export class ExchangeSymbols {
  private listed: Map<string, ListedSymbol> | null = null;
  private loading: Promise<void> | null = null;
  private lastFailureAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  /** The refresh timer's callback (load() never rejects; guarded for whatever else could throw). */
  private readonly refresh: () => void;

  /** `policy`: `upstreamPolicy(config, EXCHANGE_INFO_POLICY)`. */
  constructor(private readonly deps: { baseUrl: string; refreshMs: number; log: Logger; policy: RetryPolicy }) {
    this.refresh = guarded(deps.log, 'Binance symbol list refresh', () => {
      this.timer = null;
      return this.load();
    });
  }

  /** Resolves when `symbol` is listed and trading; otherwise an AppError a person can act on. */
  async check(symbol: string): Promise<ListedSymbol> {
    if (!this.listed) await this.load();
    const listed = this.listed?.get(symbol);
    if (!this.listed)
      throw new AppError(
        'SERVICE_UNAVAILABLE',
        'The exchange did not answer, so its symbol list is not loaded yet: try again shortly.',
      );
    if (!listed) throw new AppError('BAD_REQUEST', `Binance does not list ${symbol}. Check the symbol, like BTCUSDT.`);
    return listed;
  }

  /** Number of listed symbols (tests, stats). */
  size(): number {
    return this.listed?.size ?? 0;
  }

  close() {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** One load at a time; callers arriving meanwhile share it. Never rejects. */
  private load(): Promise<void> {
    if (this.loading) return this.loading;
    if (!this.listed && Date.now() - this.lastFailureAt < RETRY_GAP_MS) return Promise.resolve();
    this.loading = this.fetch()
      .then((listed) => {
        this.listed = listed;
        this.schedule(this.deps.refreshMs);
      })
      .catch((err: unknown) => {
        this.lastFailureAt = Date.now();
        this.deps.log.warn(
          { reason: err instanceof Error ? err.message : String(err) },
          'Binance symbol list could not be loaded',
        );
        // With a list in hand a refresh is retried sooner than the full interval; without one, callers retry it.
        if (this.listed) this.schedule(Math.min(this.deps.refreshMs, 300_000));
      })
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }

  private schedule(ms: number) {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(this.refresh, ms);
    this.timer.unref();
  }

  private async fetch(): Promise<Map<string, ListedSymbol>> {
    const url = new URL('/api/v3/exchangeInfo', this.deps.baseUrl);
    const body = await requestJson<unknown>({
      service: SERVICE,
      url,
      budget: unlimited,
      policy: this.deps.policy,
      rateLimitStatuses: [429, 418],
    });
    const parsed = ZExchangeInfo.safeParse(body);
    if (!parsed.success) throw new UpstreamError(SERVICE, 502, 'Binance sent exchangeInfo in an unexpected format');
    const listed = new Map<string, ListedSymbol>();
    for (const s of parsed.data.symbols) {
      if (s.status !== 'TRADING') continue;
      const tick = Number(s.filters.find((f) => f.filterType === 'PRICE_FILTER')?.tickSize);
      listed.set(s.symbol, {
        baseAsset: s.baseAsset,
        quoteAsset: s.quoteAsset,
        tickSize: Number.isFinite(tick) && tick > 0 ? tick : null,
      });
    }
    return listed;
  }
}
