import { eq, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { marketAlerts, marketPositions, marketStrategies } from '../../db/schema';
import type { Logger } from '../../log';
import { guarded } from '../../guarded';
import type { Timeframe } from '../../../shared/market';

export interface WatchedSeries {
  symbol: string;
  timeframe: Timeframe;
}

/** After a failed start of a series (exchange unreachable), the next attempt comes this much later. */
const RETRY_MS = 30_000;

/**
 * The one place that decides which series the feed keeps watched for trading and alerts, viewer
 * or not: every (symbol, timeframe) with an enabled strategy, an open position or an armed
 * alert. It is read from the
 * database, so it survives restarts, and re-read whenever a strategy or position changes; a
 * series is released when the last such strategy goes. Whoever runs the strategies (one
 * instance of a cluster) starts it; other instances need not.
 */
export class TradingWatch {
  private readonly held = new Map<string, () => void>();
  private running: Promise<void> = Promise.resolve();
  private queued: Promise<void> | null = null;
  private retry: NodeJS.Timeout | null = null;
  private started = false;

  constructor(
    private readonly deps: {
      db: Db;
      log: Logger;
      /** Starts watching one series upstream; resolves to its release. Rejects when it cannot start now. */
      watch: (symbol: string, tf: Timeframe) => Promise<() => void>;
    },
  ) {
    this.retryNow = guarded(deps.log, 'market traded-series retry', () => {
      this.retry = null;
      return this.sync();
    });
  }

  private readonly retryNow: () => void;

  start(): Promise<void> {
    this.started = true;
    return this.sync();
  }

  /** Re-reads the wanted series and adjusts; calls arriving while one runs share the next run. */
  sync(): Promise<void> {
    if (!this.started) return Promise.resolve();
    if (this.queued) return this.queued;
    const next = this.running.then(() => {
      this.queued = null;
      return this.apply();
    });
    this.queued = next;
    this.running = next.catch((err) => {
      if (this.started) this.deps.log.error({ err }, 'market: reading the traded series failed');
    });
    return this.running;
  }

  /** Series currently held for trading, sorted (tests, stats). */
  series(): WatchedSeries[] {
    return [...this.held.keys()].sort().map((k) => {
      const [symbol, timeframe] = k.split('|') as [string, Timeframe];
      return { symbol, timeframe };
    });
  }

  close() {
    this.started = false;
    if (this.retry) clearTimeout(this.retry);
    for (const release of this.held.values()) release();
    this.held.clear();
  }

  private async wanted(): Promise<Set<string>> {
    const { db } = this.deps;
    const [strategies, positions, alerts] = await Promise.all([
      db
        .selectDistinct({ symbol: marketStrategies.symbol, timeframe: marketStrategies.timeframe })
        .from(marketStrategies)
        .where(eq(marketStrategies.enabled, true)),
      db.selectDistinct({ symbol: marketPositions.symbol, timeframe: marketPositions.timeframe }).from(marketPositions),
      db
        .selectDistinct({ symbol: marketAlerts.symbol, timeframe: marketAlerts.timeframe })
        .from(marketAlerts)
        .where(isNull(marketAlerts.firedAt)),
    ]);
    return new Set([...strategies, ...positions, ...alerts].map((s) => `${s.symbol}|${s.timeframe}`));
  }

  private async apply() {
    const want = await this.wanted();
    if (!this.started) return;
    for (const [key, release] of this.held) {
      if (want.has(key)) continue;
      release();
      this.held.delete(key);
    }
    let failed = false;
    for (const key of want) {
      if (this.held.has(key)) continue;
      const [symbol, tf] = key.split('|') as [string, Timeframe];
      try {
        const release = await this.deps.watch(symbol, tf);
        if (!this.started) return release();
        this.held.set(key, release);
      } catch (err) {
        failed = true;
        this.deps.log.warn(
          { err: (err as Error).message, symbol, tf },
          'market: could not start a traded series; retrying later',
        );
      }
    }
    if (failed && !this.retry) {
      this.retry = setTimeout(this.retryNow, RETRY_MS);
      this.retry.unref();
    }
  }
}
