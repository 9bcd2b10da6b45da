import { topic, type EventBus } from '../../realtime/bus';
import type { Logger } from '../../log';
import type { BusEvent, LiveOnlyEvent } from '../../realtime/resumable';
import { TIMEFRAME_MS, type Candle, type ClosedCandleEvent, type FormingCandleEvent, type Indicators, type Timeframe } from '../../../shared/market';
import type { BinanceRest } from './binance-rest';
import { candleStreamKey, type CandleStore, type StoredCandle } from './candle-store';
import { IndicatorState } from './indicators';

/** Closed candles carry their row id (the resume point); forming updates are live only. */
export type SeriesEvent = BusEvent<ClosedCandleEvent, FormingCandleEvent>;
export const seriesTopic = (symbol: string, tf: Timeframe) => topic<SeriesEvent>(candleStreamKey(symbol, tf));

export type ClosedHandler = (symbol: string, tf: Timeframe, closed: StoredCandle, previous: Indicators | null) => Promise<void>;

interface Series {
  symbol: string;
  tf: Timeframe;
  state: IndicatorState;
  lastClosed: { openTime: number; indicators: Indicators } | null;
  forming: LiveOnlyEvent<FormingCandleEvent> | null;
  warmed: boolean;
  chain: Promise<void>;
  restRetryAt: number;
}

/**
 * Per (symbol, timeframe): the indicator state, computed once per upstream message whatever
 * the number of viewers, and the ordering that keeps history gap-free. Every change to a
 * series runs on its own promise chain, so a REST backfill and stream messages never interleave.
 */
export class SeriesHub {
  private readonly series = new Map<string, Series>();

  constructor(private readonly deps: { store: CandleStore; rest: BinanceRest; bus: EventBus; log: Logger; historyCandles: number; onClosed: ClosedHandler }) {}

  forming(symbol: string, tf: Timeframe): LiveOnlyEvent<FormingCandleEvent> | null {
    return this.series.get(`${symbol}|${tf}`)?.forming ?? null;
  }

  lastPrice(symbol: string, tf: Timeframe): number | null {
    return this.series.get(`${symbol}|${tf}`)?.forming?.data.candle.close ?? null;
  }

  onKline(symbol: string, tf: Timeframe, candle: Candle, closed: boolean) {
    const s = this.get(symbol, tf);
    void this.run(s, () => this.applyKline(s, candle, closed));
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
  settled(symbol: string, tf: Timeframe): Promise<void> {
    return this.get(symbol, tf).chain;
  }

  private get(symbol: string, tf: Timeframe): Series {
    const key = `${symbol}|${tf}`;
    let s = this.series.get(key);
    if (!s) {
      s = { symbol, tf, state: new IndicatorState(), lastClosed: null, forming: null, warmed: false, chain: Promise.resolve(), restRetryAt: 0 };
      this.series.set(key, s);
    }
    return s;
  }

  private run(s: Series, job: () => Promise<void>, rethrow = false): Promise<void> {
    const next = s.chain.then(async () => {
      if (!s.warmed) await this.warm(s);
      await job();
    });
    s.chain = next.catch((err) => this.deps.log.error({ err, symbol: s.symbol, tf: s.tf }, 'market series update failed'));
    return rethrow ? next : s.chain;
  }

  /** Rebuilds the indicator state from stored history (after a restart, or on first use). */
  private async warm(s: Series) {
    const history = await this.deps.store.latest(s.symbol, s.tf, this.deps.historyCandles);
    for (const c of history) s.state.close(c.candle.openTime, c.candle.close);
    const last = history.at(-1);
    if (last) s.lastClosed = { openTime: last.candle.openTime, indicators: last.indicators };
    s.warmed = true;
  }

  private async applyKline(s: Series, candle: Candle, closed: boolean) {
    const step = TIMEFRAME_MS[s.tf];
    const last = s.lastClosed?.openTime ?? null;
    if (last !== null && candle.openTime <= last) return;
    // A candle we never saw close (missed x:true, or a reconnect gap): fetch it before going on.
    if ((last === null || candle.openTime > last + step) && Date.now() >= s.restRetryAt) {
      try {
        const from = last === null ? null : last + step;
        const missed = await this.deps.rest.closed(s.symbol, s.tf, { from, to: candle.openTime, latest: this.deps.historyCandles });
        await this.ingest(s, missed, last !== null);
      } catch (err) {
        s.restRetryAt = Date.now() + 5_000;
        this.deps.log.warn({ err: (err as Error).message, symbol: s.symbol, tf: s.tf }, 'kline backfill failed; retrying later');
      }
    }
    if (closed) return this.ingest(s, [candle], true);
    const forming = { data: { symbol: s.symbol, timeframe: s.tf, candle, closed: false as const, indicators: s.state.forming(candle.openTime, candle.close) } };
    s.forming = forming;
    this.deps.bus.publish(seriesTopic(s.symbol, s.tf), forming);
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
      for (const c of stored) this.deps.bus.publish(seriesTopic(s.symbol, s.tf), { id: c.id, data: { symbol: s.symbol, timeframe: s.tf, candle: c.candle, closed: true, indicators: c.indicators } });
    };
    const stored = await this.deps.store.insert(s.symbol, s.tf, items, live ? publish : undefined);
    if (!live) return;
    for (const c of stored) await this.deps.onClosed(s.symbol, s.tf, c, previous.get(c.candle.openTime) ?? null);
  }
}
