import { TRPCError } from '@trpc/server';
import type { Config } from '../../config';
import type { Db } from '../../db/client';
import type { Logger } from '../../log';
import { topic, type EventBus } from '../../realtime/bus';
import type { Inbox } from '../../realtime/inbox';
import type { RealtimeStats } from '../../realtime/stats';
import type { ClosedCandleEvent, FormingCandleEvent, MarketStats, Timeframe } from '../../../shared/market';
import { BinanceFeed, type KlineHandler } from './binance-feed';
import { BinanceRest, UnknownSymbolError } from './binance-rest';
import { CandleStore, type StoredCandle } from './candle-store';
import { resumable, resumeExpired } from '../../realtime/resumable';
import { afterStream, fanoutHandover } from '../../transport/claims';
import { seriesTopic, SeriesHub } from './series';
import { StrategyService } from './strategies';
import { listPositions, listTrades, TradingEngine } from './trading';
import { TradingWatch } from './trading-watch';

/**
 * "Strategies or positions changed": every instance of a cluster re-reads which series it keeps
 * watched for trading, so a strategy turned on through one instance still trades if that one dies.
 */
const tradedSeriesChanged = topic<Record<string, never>>('market_traded_series');

/** The market feature: one shared feed, per-series state, per-user paper trading. */
export class MarketService {
  readonly store: CandleStore;
  readonly hub: SeriesHub;
  readonly feed: Pick<BinanceFeed, 'watch' | 'isLive' | 'openConnections' | 'carried' | 'close'>;
  readonly strategies: StrategyService;
  readonly tradingWatch: TradingWatch;
  private readonly engine: TradingEngine;
  /** viewer (session) → timeframe → open live subscriptions. */
  private readonly viewers = new Map<string, Map<Timeframe, number>>();
  private subscriptions = 0;
  private readonly known = new Map<string, Promise<void>>();
  private readonly stopFollowingTradedSeries: () => void;

  constructor(
    // `feed`: with several instances, the cluster's one-connection-per-timeframe feed (server/cluster/market-feed.ts).
    private readonly deps: { config: Config; db: Db; bus: EventBus; inbox: Inbox; log: Logger; stats: RealtimeStats; feed?: (handler: KlineHandler, log: Logger) => MarketService['feed'] },
  ) {
    const log = deps.log.child({ feature: 'market' });
    this.store = new CandleStore({ db: deps.db });
    this.engine = new TradingEngine({ db: deps.db, inbox: deps.inbox, log, onPositionsChanged: () => deps.bus.publish(tradedSeriesChanged, {}) });
    this.strategies = new StrategyService({ db: deps.db, inbox: deps.inbox, lastPrice: (s, tf) => this.lastPrice(s, tf), onChange: () => deps.bus.publish(tradedSeriesChanged, {}) });
    this.hub = new SeriesHub({
      store: this.store,
      rest: new BinanceRest({ baseUrl: deps.config.BINANCE_REST_URL, timeoutMs: deps.config.UPSTREAM_TIMEOUT_MS }),
      bus: deps.bus,
      log,
      historyCandles: deps.config.MARKET_HISTORY_CANDLES,
      onClosed: (s, tf, c, prev) => this.engine.onClosed(s, tf, c, prev),
    });
    const handler: KlineHandler = {
      onKline: (symbol, tf, candle, closed) => this.hub.onKline(symbol, tf, candle, closed),
      onReconnected: (symbol, tf) => this.hub.onReconnected(symbol, tf),
    };
    this.feed = deps.feed?.(handler, log) ?? new BinanceFeed({ config: deps.config, log, handler });
    this.tradingWatch = new TradingWatch({ db: deps.db, log, watch: (symbol, tf) => this.watchForTrading(symbol, tf) });
    // Delivered here at once and to the other instances, if any.
    this.stopFollowingTradedSeries = deps.bus.subscribe(tradedSeriesChanged, () => void this.tradingWatch.sync());
    deps.stats.registerUpstream('binance', () => this.feed.openConnections());
  }

  /** Starts keeping every traded series watched (see TradingWatch); not awaited by boot. */
  start(): Promise<void> {
    return this.tradingWatch.start();
  }

  /** A traded series is watched like a viewer's, once the exchange has shown it exists. */
  private async watchForTrading(symbol: string, tf: Timeframe): Promise<() => void> {
    try {
      await this.ensureKnown(symbol, tf);
    } catch (err) {
      // A symbol the exchange does not know is never watched; retrying would not help.
      if (err instanceof TRPCError && err.code === 'BAD_REQUEST') return () => {};
      throw err;
    }
    return this.feed.watch(symbol, tf);
  }

  /** The series' latest price: the forming candle's, else the last stored close. */
  private async lastPrice(symbol: string, tf: Timeframe): Promise<number | null> {
    return this.hub.lastPrice(symbol, tf) ?? (await this.store.latest(symbol, tf, 1))[0]?.candle.close ?? null;
  }

  /** Waits until the series' queued candles are applied and the strategies have seen them (tests). */
  async settled(symbol: string, tf: Timeframe): Promise<void> {
    await this.hub.settled(symbol, tf);
    await this.engine.settled(symbol, tf);
  }

  async candles(symbol: string, tf: Timeframe, limit: number) {
    // A live stream keeps stored history current; otherwise REST fills it in now.
    if (!this.feed.isLive(symbol, tf)) await this.fromExchange(this.hub.ensureHistory(symbol, tf, limit));
    return { symbol, timeframe: tf, candles: await this.store.latest(symbol, tf, limit) };
  }

  /**
   * A series is watched upstream only once the exchange has shown it exists (its history
   * is fetched once), so junk symbols cannot fill the connection's 1024 streams.
   */
  private ensureKnown(symbol: string, tf: Timeframe): Promise<void> {
    const key = `${symbol}|${tf}`;
    let known = this.known.get(key);
    if (!known) {
      known = (async () => {
        if ((await this.store.latest(symbol, tf, 1)).length === 0) await this.fromExchange(this.hub.ensureHistory(symbol, tf, 0));
      })();
      this.known.set(key, known);
      known.catch(() => this.known.delete(key));
    }
    return known;
  }

  private async fromExchange(work: Promise<void>) {
    try {
      await work;
    } catch (err) {
      if (err instanceof UnknownSymbolError) throw new TRPCError({ code: 'BAD_REQUEST', message: `${err.message} Check the spelling, e.g. BTCUSDT.` });
      throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'The exchange did not answer: try again in a moment.', cause: err });
    }
  }

  /** Watching is what makes the feed carry a symbol; it is released when the stream ends. */
  /** `requestSignal` is the transport's own signal: our WebSocket adapter lets the stream join the series' fan-out with it. */
  async *live(viewer: string, input: { symbol: string; timeframe: Timeframe; lastEventId?: string | null }, signal: AbortSignal | undefined, requestSignal?: AbortSignal) {
    await this.ensureKnown(input.symbol, input.timeframe);
    const release = this.feed.watch(input.symbol, input.timeframe);
    const leave = this.join(viewer, input.timeframe);
    try {
      yield* this.series(input.symbol, input.timeframe, input.lastEventId, signal, requestSignal);
    } finally {
      // Handed over to the fan-out, the stream has not ended yet: the release waits for its end.
      afterStream(requestSignal, () => {
        leave();
        release();
      });
    }
  }

  /**
   * Replay-then-live for one series. The high-water mark is the candle's open time, not its
   * id: a backfilled candle gets a newer row id than later candles but must come in time order.
   */
  private series(symbol: string, tf: Timeframe, lastEventId: string | null | undefined, signal: AbortSignal | undefined, requestSignal: AbortSignal | undefined) {
    const topic = seriesTopic(symbol, tf);
    const closed = (c: StoredCandle) => ({ id: c.id, data: { symbol, timeframe: tf, candle: c.candle, closed: true as const, indicators: c.indicators } });
    return resumable<ClosedCandleEvent, FormingCandleEvent>({
      signal,
      lastEventId,
      maxBuffered: 2000,
      subscribe: (push) => this.deps.bus.subscribe(topic, push),
      replay: async (after, limit) => (await this.store.after(symbol, tf, after, limit)).map(closed),
      position: (e) => e.data.candle.openTime,
      livePosition: (forming) => forming.candle.openTime,
      resumeFrom: async (id) => {
        const from = await this.store.byId(symbol, tf, id);
        if (from) return from.candle.openTime;
        if (await this.store.exists(id)) throw new TRPCError({ code: 'BAD_REQUEST', message: `lastEventId ${id} is not a ${symbol} ${tf} candle: resubscribe without it.` });
        throw resumeExpired(`Candle #${id} is`);
      },
      snapshot: () => this.hub.forming(symbol, tf),
      handover: fanoutHandover(requestSignal, topic),
    });
  }

  stats(): MarketStats {
    const carried = this.feed.carried();
    const shared = this.feed.openConnections();
    // The design this replaces: every viewer opened one exchange connection per timeframe it watched.
    let traditional = 0;
    for (const tfs of this.viewers.values()) traditional += tfs.size;
    const saved = Math.max(0, traditional - shared);
    return {
      activeSessions: this.viewers.size,
      totalSubscriptions: this.subscriptions,
      sharedWebSockets: shared,
      timeframes: carried,
      efficiency: {
        traditionalConnections: traditional,
        sharedConnections: shared,
        savedConnections: saved,
        savingsPercent: traditional === 0 ? 0 : Math.round((saved / traditional) * 1000) / 10,
      },
    };
  }

  positions(userId: string) {
    return listPositions(this.deps.db, userId, (s, tf) => this.hub.lastPrice(s, tf));
  }

  trades(userId: string, cursor: number | null, limit: number) {
    return listTrades(this.deps.db, userId, cursor, limit);
  }

  close() {
    this.stopFollowingTradedSeries();
    this.tradingWatch.close();
    this.hub.close();
    this.feed.close();
  }

  private join(viewer: string, tf: Timeframe): () => void {
    let tfs = this.viewers.get(viewer);
    if (!tfs) this.viewers.set(viewer, (tfs = new Map()));
    tfs.set(tf, (tfs.get(tf) ?? 0) + 1);
    this.subscriptions++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.subscriptions--;
      const n = (tfs.get(tf) ?? 1) - 1;
      if (n > 0) return void tfs.set(tf, n);
      tfs.delete(tf);
      if (tfs.size === 0) this.viewers.delete(viewer);
    };
  }
}
