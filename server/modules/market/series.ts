import { topic, type EventBus } from '../../realtime/bus';
import type { Logger } from '../../log';
import { backoff } from '../../backoff';
import { releaseOnce } from '../../ref-count';
import { guarded } from '../../guarded';
import type { BusEvent, LiveOnlyEvent } from '../../realtime/resumable';
import {
  TIMEFRAME_MS,
  type Candle,
  type ClosedCandleEvent,
  type FormingCandleEvent,
  type Indicators,
  type Timeframe,
} from '../../../shared/market';
import { UpstreamError } from '../../upstream/error';
import { UnknownSymbolError, type BinanceRest } from './binance-rest';
import { candleStreamKey, type CandleStore, type StoredCandle } from './candle-store';
import { CandleWriter } from './candle-writer';
import { IndicatorState } from './indicators';

/** Closed candles carry their row id (the resume point); forming updates are live only. */
export type SeriesEvent = BusEvent<ClosedCandleEvent, FormingCandleEvent>;
export const seriesTopic = (symbol: string, tf: Timeframe) => topic<SeriesEvent>(candleStreamKey(symbol, tf));

export type ClosedHandler = (symbol: string, tf: Timeframe, closed: StoredCandle, previous: Indicators | null) => void;

/** Closed klines waiting beyond this are dropped oldest first: the gap backfill fetches them again. */
const MAX_QUEUED_CLOSED = 500;
/** Back-off between failed gap backfills, on top of each REST call's own retries. */
const GAP_RETRY_MIN_MS = 500;
const GAP_RETRY_MAX_MS = 30_000;
interface Series {
  symbol: string;
  tf: Timeframe;
  state: IndicatorState;
  lastClosed: { openTime: number; indicators: Indicators } | null;
  forming: LiveOnlyEvent<FormingCandleEvent> | null;
  warmed: boolean;
  chain: Promise<void>;
  /** Closed klines not applied yet, in arrival order. */
  closedQueue: Candle[];
  /** Only the newest forming update waits: a slow database never builds a queue of stale ticks. */
  pendingForming: Candle | null;
  drainQueued: boolean;
  gapFailures: number;
  gapRetryAt: number;
  gapTimer: NodeJS.Timeout | null;
  /** Viewers and traders holding the series (retain); at zero it is dropped after the idle period. */
  refs: number;
  /** Last time anything touched the series (a kline, a history request, a release). */
  usedAt: number;
  /** Jobs queued or running on the chain: a busy series is never dropped. */
  jobs: number;
  idleTimer: NodeJS.Timeout | null;
}

/**
 * Per (symbol, timeframe): the indicator state, computed once per upstream message whatever
 * the number of viewers, and the ordering that keeps history gap-free. Every change to a
 * series runs on its own promise chain, so a REST backfill and stream messages never
 * interleave. Stream messages do not each add a link: they wait in a bounded queue (closed
 * candles) and a single slot (the forming one), drained by at most one queued link.
 */
export class SeriesHub {
  private readonly series = new Map<string, Series>();
  private closed = false;

  private readonly stopping = new AbortController();
  private readonly writer: CandleWriter;

  /** Every series' gap-retry timer calls this one guarded callback (a failure is logged once a minute, not per series). */
  private readonly gapRetry: (s: Series) => void;

  constructor(
    private readonly deps: {
      store: CandleStore;
      rest: BinanceRest;
      bus: EventBus;
      log: Logger;
      historyCandles: number;
      onClosed: ClosedHandler;
      /** Each forming update applied (after it is published); called synchronously, so it must be cheap and not throw. */
      onForming?: (symbol: string, tf: Timeframe, candle: Candle) => void;
      /** How long a series nobody holds and no kline touches stays in memory (MARKET_SYMBOL_GRACE_MS). */
      idleMs: number;
      /** Called when a series is dropped, so its owner forgets what it keeps about it. */
      onEvict?: (symbol: string, tf: Timeframe) => void;
    },
  ) {
    this.writer = new CandleWriter(deps.store, deps.log, this.stopping.signal);
    this.gapRetry = guarded(deps.log, 'market gap retry', (s: Series) => {
      s.gapTimer = null;
      this.scheduleDrain(s);
    });
  }

  /**
   * Keeps the series in memory while held (a viewer's stream, a traded series); call the
   * returned function once to let go. Unheld series are dropped once idle for `idleMs`, so
   * memory follows what is watched; a later user rebuilds it from the database (and the
   * exchange for what closed meanwhile).
   */
  retain(symbol: string, tf: Timeframe): () => void {
    const s = this.get(symbol, tf);
    s.refs++;
    if (s.idleTimer) clearTimeout(s.idleTimer);
    s.idleTimer = null;
    return releaseOnce(() => {
      s.refs--;
      s.usedAt = Date.now();
      this.armIdle(s);
    });
  }

  forming(symbol: string, tf: Timeframe): LiveOnlyEvent<FormingCandleEvent> | null {
    return this.series.get(`${symbol}|${tf}`)?.forming ?? null;
  }

  /** Whether this instance already keeps the series (its state and history are set up). */
  has(symbol: string, tf: Timeframe): boolean {
    return this.series.has(`${symbol}|${tf}`);
  }

  /** Series kept in memory (tests, stats). */
  size(): number {
    return this.series.size;
  }

  lastPrice(symbol: string, tf: Timeframe): number | null {
    return this.series.get(`${symbol}|${tf}`)?.forming?.data.candle.close ?? null;
  }

  onKline(symbol: string, tf: Timeframe, candle: Candle, closed: boolean) {
    const s = this.get(symbol, tf);
    if (closed) {
      s.closedQueue.push(candle);
      if (s.closedQueue.length > MAX_QUEUED_CLOSED) s.closedQueue.shift();
    } else s.pendingForming = candle;
    this.scheduleDrain(s);
  }

  /** After a reconnect: fetch whatever closed while the stream was down. */
  onReconnected(symbol: string, tf: Timeframe) {
    const s = this.get(symbol, tf);
    void this.run(s, () => this.topUp(s, this.deps.historyCandles));
  }

  /** Brings stored history up to date from REST (used when no stream keeps it fresh). */
  ensureHistory(symbol: string, tf: Timeframe, atLeast: number): Promise<void> {
    const s = this.get(symbol, tf);
    return this.run(s, () => this.topUp(s, Math.max(atLeast, this.deps.historyCandles)), true);
  }

  /** Waits until everything queued on the series so far has been applied (tests, shutdown). */
  async settled(symbol: string, tf: Timeframe): Promise<void> {
    const s = this.get(symbol, tf);
    let seen: Promise<void> | null = null;
    while (seen !== s.chain) {
      seen = s.chain;
      await seen;
    }
  }

  close() {
    this.closed = true;
    this.stopping.abort();
    for (const s of this.series.values()) {
      if (s.gapTimer) clearTimeout(s.gapTimer);
      if (s.idleTimer) clearTimeout(s.idleTimer);
    }
  }

  private get(symbol: string, tf: Timeframe): Series {
    const key = `${symbol}|${tf}`;
    let s = this.series.get(key);
    if (!s) {
      s = {
        symbol,
        tf,
        state: new IndicatorState(),
        lastClosed: null,
        forming: null,
        warmed: false,
        chain: Promise.resolve(),
        closedQueue: [],
        pendingForming: null,
        drainQueued: false,
        gapFailures: 0,
        gapRetryAt: 0,
        gapTimer: null,
        refs: 0,
        usedAt: 0,
        jobs: 0,
        idleTimer: null,
      };
      this.series.set(key, s);
    }
    s.usedAt = Date.now();
    this.armIdle(s);
    return s;
  }

  /** Unheld: check back after the idle period (a timer per idle series, none per kline). */
  private armIdle(s: Series, delay = this.deps.idleMs) {
    if (s.refs > 0 || s.idleTimer || this.closed) return;
    s.idleTimer = setTimeout(
      guarded(this.deps.log, 'market series eviction', () => this.evictIfIdle(s)),
      delay,
    );
    s.idleTimer.unref();
  }

  private evictIfIdle(s: Series) {
    s.idleTimer = null;
    const key = `${s.symbol}|${s.tf}`;
    if (this.closed || s.refs > 0 || this.series.get(key) !== s) return;
    const left = s.usedAt + this.deps.idleMs - Date.now();
    // Candles still waiting (a store retry, a gap to fill) keep the series until they are applied.
    const busy = s.jobs > 0 || s.closedQueue.length > 0 || s.gapTimer !== null;
    if (left > 0 || busy) return this.armIdle(s, Math.max(left, 50));
    this.series.delete(key);
    this.deps.onEvict?.(s.symbol, s.tf);
  }

  private run(s: Series, job: () => Promise<void>, rethrow = false): Promise<void> {
    s.jobs++;
    const next = s.chain
      .then(async () => {
        if (!s.warmed) await this.warm(s);
        await job();
      })
      .finally(() => {
        s.jobs--;
        s.usedAt = Date.now();
      });
    s.chain = next.catch((err) => {
      if (this.closed) return;
      // The exchange failing is expected (one line, its reason); anything else is our bug (with its stack).
      if (err instanceof UpstreamError || err instanceof UnknownSymbolError)
        this.deps.log.warn({ reason: err.message, symbol: s.symbol, tf: s.tf }, 'market series update failed');
      else this.deps.log.error({ err, symbol: s.symbol, tf: s.tf }, 'market series update failed');
    });
    return rethrow ? next : s.chain;
  }

  /** At most one drain waits on the chain; messages arriving meanwhile join the queue it will read. */
  private scheduleDrain(s: Series) {
    if (s.drainQueued || this.closed) return;
    s.drainQueued = true;
    void this.run(s, () => {
      s.drainQueued = false;
      return this.drain(s);
    });
  }

  /** Rebuilds the indicator state from stored history (after a restart, or on first use). */
  private async warm(s: Series) {
    const history = await this.deps.store.latest(s.symbol, s.tf, this.deps.historyCandles);
    for (const c of history) s.state.close(c.candle.openTime, c.candle.close);
    const last = history.at(-1);
    if (last) s.lastClosed = { openTime: last.candle.openTime, indicators: last.indicators };
    s.warmed = true;
  }

  private async drain(s: Series) {
    const closed = s.closedQueue.splice(0);
    const forming = s.pendingForming;
    s.pendingForming = null;
    const first = closed[0] ?? forming;
    if (!first) return;
    // A candle we never saw close (missed x:true, or a reconnect gap): it must be fetched
    // before anything after it is applied, or history keeps a hole for good.
    if (!(await this.fillGap(s, first.openTime))) {
      const room = Math.max(0, MAX_QUEUED_CLOSED - s.closedQueue.length);
      s.closedQueue.unshift(...closed.slice(closed.length - room));
      s.pendingForming ??= forming;
      return;
    }
    if (closed.length) await this.ingest(s, closed, true);
    const last = s.lastClosed?.openTime ?? null;
    if (!forming || (last !== null && forming.openTime <= last)) return;
    const event = {
      data: {
        symbol: s.symbol,
        timeframe: s.tf,
        candle: forming,
        closed: false as const,
        indicators: s.state.forming(forming.openTime, forming.close),
      },
    };
    s.forming = event;
    this.deps.bus.publish(seriesTopic(s.symbol, s.tf), event);
    this.deps.onForming?.(s.symbol, s.tf, forming);
  }

  /**
   * Makes stored history reach the candle before `upTo`. False when the exchange could not
   * fill the gap now: a retry is then scheduled with back-off, and nothing later is applied.
   */
  private async fillGap(s: Series, upTo: number): Promise<boolean> {
    const step = TIMEFRAME_MS[s.tf];
    const last = s.lastClosed?.openTime ?? null;
    if (last !== null && upTo <= last + step) return true;
    if (Date.now() < s.gapRetryAt) return false;
    try {
      // One layer of retries: the REST call's own (upstream policy). A call that still fails is
      // tried again later by the timer below, not at once.
      const missed = await this.deps.rest.closed(s.symbol, s.tf, {
        from: last === null ? null : last + step,
        to: upTo,
        latest: this.deps.historyCandles,
      });
      await this.ingest(s, missed, last !== null);
      s.gapFailures = 0;
      s.gapRetryAt = 0;
      return true;
    } catch (err) {
      const delay = backoff(++s.gapFailures, GAP_RETRY_MIN_MS, GAP_RETRY_MAX_MS);
      s.gapRetryAt = Date.now() + delay;
      this.deps.log.warn(
        { err: (err as Error).message, symbol: s.symbol, tf: s.tf, retryInMs: delay },
        'kline gap backfill failed; holding newer candles until it is filled',
      );
      if (!s.gapTimer && !this.closed) {
        s.gapTimer = setTimeout(this.gapRetry, delay, s);
        s.gapTimer.unref();
      }
      return false;
    }
  }

  private async topUp(s: Series, latest: number) {
    const last = s.lastClosed?.openTime ?? null;
    const from = last === null ? null : last + TIMEFRAME_MS[s.tf];
    const missed = await this.deps.rest.closed(s.symbol, s.tf, { from, to: null, latest });
    await this.ingest(s, missed, last !== null);
  }

  /**
   * Closed candles in time order: indicators computed once, stored, then (when `live`, i.e.
   * not the initial history) pushed to viewers and handed to the strategies.
   */
  private async ingest(s: Series, candles: Candle[], live: boolean) {
    const items: { candle: Candle; indicators: Indicators }[] = [];
    let lastOpen = s.lastClosed?.openTime ?? -Infinity;
    const previous = new Map<number, Indicators | null>();
    let prevIndicators = s.lastClosed?.indicators ?? null;
    for (const candle of [...candles].sort((a, b) => a.openTime - b.openTime)) {
      if (candle.openTime <= lastOpen) continue;
      const indicators = s.state.close(candle.openTime, candle.close);
      items.push({ candle, indicators });
      previous.set(candle.openTime, prevIndicators);
      prevIndicators = indicators;
      lastOpen = candle.openTime;
    }
    if (items.length === 0) return;
    const lastItem = items.at(-1)!;
    s.lastClosed = { openTime: lastItem.candle.openTime, indicators: lastItem.indicators };
    if (s.forming && s.forming.data.candle.openTime <= lastItem.candle.openTime) s.forming = null;
    const publish = (stored: StoredCandle[]) => {
      for (const c of stored)
        this.deps.bus.publish(seriesTopic(s.symbol, s.tf), {
          id: c.id,
          data: { symbol: s.symbol, timeframe: s.tf, candle: c.candle, closed: true, indicators: c.indicators },
        });
    };
    const stored = await this.store(s, items, live, live ? publish : undefined);
    if (!live) return;
    // Handed over, not awaited: users' trade transactions stay off this path.
    for (const c of stored) this.deps.onClosed(s.symbol, s.tf, c, previous.get(c.candle.openTime) ?? null);
  }

  /**
   * Stores closed candles whose indicators are already applied to the series' state, retrying
   * (candle-writer.ts): moving on after a failed insert would drop them for good, since the
   * series' last-closed mark is past them. When retrying ends, the series forgets its in-memory
   * state, so its next update rebuilds from the database and refetches the missing candles.
   */
  private async store(
    s: Series,
    items: { candle: Candle; indicators: Indicators }[],
    live: boolean,
    publish?: (stored: StoredCandle[]) => void,
  ): Promise<StoredCandle[]> {
    try {
      return await this.writer.write(s, items, live, publish);
    } catch (err) {
      s.state = new IndicatorState();
      s.lastClosed = null;
      s.forming = null;
      s.warmed = false;
      throw err;
    }
  }
}
