import pRetry from 'p-retry';
import { isDatabaseUnavailable } from '../../db/unavailable';
import type { Logger } from '../../log';
import type { Candle, Indicators, Timeframe } from '../../../shared/market';
import type { CandleStore, StoredCandle } from './candle-store';

/**
 * Back-off between attempts to store closed candles. While the database is unreachable a live
 * series retries for as long as the outage lasts (its newer candles wait in the bounded queue);
 * any other failure gets this many retries, then the series rebuilds from what is stored and the
 * gap rule fetches the missing candles from the exchange again (with the gap back-off above).
 */
const STORE_RETRY_MIN_MS = 100;
const STORE_RETRY_MAX_MS = 5_000;
const STORE_RETRIES_OTHER_ERRORS = 4;
/** Initial history (someone's request waits on it): about ten seconds, as retryWhileDatabaseUnavailable. */
const STORE_RETRIES_HISTORY = 8;

/**
 * Writes a series' closed candles to the store, retrying as above. An outage is logged once for
 * every series together, and its end once, not per series or attempt.
 */
export class CandleWriter {
  /** Series whose closed candles are waiting for the database. */
  private readonly failing = new Set<object>();

  constructor(
    private readonly store: CandleStore,
    private readonly log: Logger,
    private readonly stopping: AbortSignal,
  ) {}

  /** Rejects when retrying ends (the hub stopped, or a failure other than an outage persisted). */
  async write(
    series: { symbol: string; tf: Timeframe },
    items: { candle: Candle; indicators: Indicators }[],
    live: boolean,
    publish?: (stored: StoredCandle[]) => void,
  ): Promise<StoredCandle[]> {
    const { symbol, tf } = series;
    let failedOnce = false;
    try {
      const stored = await pRetry(() => this.store.insert(symbol, tf, items, publish), {
        retries: live ? Infinity : STORE_RETRIES_HISTORY,
        minTimeout: STORE_RETRY_MIN_MS,
        maxTimeout: STORE_RETRY_MAX_MS,
        randomize: true,
        signal: this.stopping,
        shouldRetry: ({ error, attemptNumber }) =>
          !this.stopping.aborted &&
          (isDatabaseUnavailable(error) || (live && attemptNumber <= STORE_RETRIES_OTHER_ERRORS)),
        onFailedAttempt: ({ error }) => {
          if (failedOnce) return;
          failedOnce = true;
          const unavailable = isDatabaseUnavailable(error);
          if (!unavailable || this.failing.size === 0) {
            this.log.warn(
              { err: error, symbol, tf, candles: items.length },
              unavailable
                ? 'market: the database is unreachable; closed candles wait and are stored when it answers'
                : 'market: storing closed candles failed; retrying',
            );
          }
          this.failing.add(series);
        },
      });
      if (this.failing.delete(series) && this.failing.size === 0)
        this.log.info({ symbol, tf }, 'market: closed candles are stored again');
      return stored;
    } finally {
      this.failing.delete(series);
    }
  }
}
