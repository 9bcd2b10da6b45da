import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LimiterOptions } from '../../cluster/limits';
import { AppError } from '../../errors';
import { guarded } from '../../guarded';
import { countDown, countUp, releaseOnce } from '../../ref-count';
import type { Config } from '../../config';
import type { Db } from '../../db/client';
import type { Logger } from '../../log';
import { topic, type EventBus } from '../../realtime/bus';
import type { Inbox } from '../../realtime/inbox';
import type { StreamLog } from '../../realtime/record';
import type { RealtimeStats } from '../../realtime/stats';
import type { Candle, ClosedCandleEvent, FormingCandleEvent, MarketStats, Timeframe } from '../../../shared/market';
import { BinanceFeed, streamsFull, type KlineHandler, type MarketFeed } from './binance-feed';
import { BINANCE_REST_POLICY, BinanceRest, UnknownSymbolError } from './binance-rest';
import { upstreamPolicy } from '../../upstream/policy';
import { EXCHANGE_INFO_POLICY, ExchangeSymbols } from './exchange-info';
import { CandleStore, type StoredCandle } from './candle-store';
import { resumeExpired } from '../../realtime/resumable';
import { SeriesReads } from './series-reads';
import { sharedTopic, type StreamScope } from '../../realtime/streams';
import { seriesTopic, SeriesHub } from './series';
import { SeriesStarts } from './series-starts';
import { StrategyService } from './strategies';
import { listPositions, listTrades, TradingEngine } from './trading';
import { TradingWatch } from './trading-watch';
import { AlertService } from './alerts';
import { AlertWatch } from './alert-watch';
import type { AlertCreateInput } from '../../../shared/market-alerts';

/**
 * "Strategies, positions or armed alerts changed": every instance of a cluster re-reads which series it keeps
 * watched for trading, so a strategy turned on through one instance still trades if that one dies.
 */
const tradedSeriesChanged = topic<Record<string, never>>('market_traded_series');

const isBadRequest = (err: unknown) => err instanceof AppError && err.code === 'BAD_REQUEST';

/** The market feature: one shared feed, per-series state, per-user paper trading. */
export class MarketService {
  readonly store: CandleStore;
  readonly hub: SeriesHub;
  readonly feed: MarketFeed;
  readonly strategies: StrategyService;
  readonly tradingWatch: TradingWatch;
  /** Every user's armed alerts, evaluated on each update of their series (alert-watch.ts). */
  readonly alertWatch: AlertWatch;
  private readonly alerts: AlertService;
  readonly symbols: ExchangeSymbols;
  private readonly newSeries: SeriesStarts;
  private readonly engine: TradingEngine;
  /** viewer (session) → timeframe → open live subscriptions. */
  private readonly viewers = new Map<string, Map<Timeframe, number>>();
  private subscriptions = 0;
  private readonly known = new Map<string, Promise<void>>();
  /** The reads of subscriptions starting or resuming, coalesced (series-reads.ts). */
  private readonly reads: SeriesReads;
  private readonly stopFollowingTradedSeries: () => void;

  constructor(
    // `feed`: with several instances, the cluster's one-connection-per-timeframe feed (cluster-feed.ts).
    private readonly deps: {
      config: Config;
      db: Db;
      bus: EventBus;
      streams: StreamLog;
      inbox: Inbox;
      log: Logger;
      stats: RealtimeStats;
      feed?: (handler: KlineHandler, log: Logger) => MarketFeed;
      /** Makes the per-user new-series counter, shared by a cluster (server/cluster/limits.ts); in memory when absent. */
      limiter?: (o: LimiterOptions) => RateLimiterAbstract;
    },
  ) {
    const log = deps.log.child({ feature: 'market' });
    this.store = new CandleStore({ db: deps.db, streams: deps.streams });
    this.reads = new SeriesReads(this.store);
    this.symbols = new ExchangeSymbols({
      baseUrl: deps.config.BINANCE_REST_URL,
      refreshMs: deps.config.MARKET_SYMBOLS_REFRESH_MS,
      log,
      policy: upstreamPolicy(deps.config, EXCHANGE_INFO_POLICY),
    });
    const limiter = deps.limiter ?? ((o: LimiterOptions) => new RateLimiterMemory(o));
    this.newSeries = new SeriesStarts(
      limiter({
        keyPrefix: 'market.new-series',
        points: deps.config.MARKET_NEW_SERIES_PER_USER_PER_HOUR,
        duration: 3600,
      }),
    );
    this.engine = new TradingEngine({
      db: deps.db,
      inbox: deps.inbox,
      log,
      onPositionsChanged: () => deps.bus.publish(tradedSeriesChanged, {}),
    });
    this.strategies = new StrategyService({
      db: deps.db,
      inbox: deps.inbox,
      lastPrice: (s, tf) => this.lastPrice(s, tf),
      onChange: () => deps.bus.publish(tradedSeriesChanged, {}),
      admit: async (userId, s, tf, enabled) => {
        await this.symbols.check(s);
        if (!enabled) return;
        // Past the feed's cap an enabled strategy would be stored and never followed: refused to its
        // owner instead, before the budget is charged (a disabled one may still be kept).
        if (this.feed.isFull(s, tf)) throw streamsFull();
        await this.admit(userId, s, tf);
      },
    });
    const watchChanged = () => deps.bus.publish(tradedSeriesChanged, {});
    this.alertWatch = new AlertWatch({ db: deps.db, bus: deps.bus, inbox: deps.inbox, log, onFired: watchChanged });
    this.alerts = new AlertService({
      db: deps.db,
      bus: deps.bus,
      watch: this.alertWatch,
      onChange: watchChanged,
      // An armed alert keeps its series watched, as an enabled strategy does: the same checks.
      admit: async (userId, s, tf) => {
        await this.symbols.check(s);
        if (this.feed.isFull(s, tf)) throw streamsFull();
        await this.admit(userId, s, tf);
      },
    });
    const checkAlerts = guarded(log, 'market alert check', (s: string, tf: Timeframe, c: Candle) =>
      this.alertWatch.onForming(s, tf, c),
    );
    const checkClosedAlerts = guarded(log, 'market alert check', (s: string, tf: Timeframe, c: StoredCandle) =>
      this.alertWatch.onClosed(s, tf, c),
    );
    this.hub = new SeriesHub({
      store: this.store,
      rest: new BinanceRest({
        baseUrl: deps.config.BINANCE_REST_URL,
        policy: upstreamPolicy(deps.config, BINANCE_REST_POLICY),
      }),
      bus: deps.bus,
      log,
      historyCandles: deps.config.MARKET_HISTORY_CANDLES,
      onClosed: (s, tf, c, prev) => {
        this.engine.onClosed(s, tf, c, prev);
        checkClosedAlerts(s, tf, c);
      },
      onForming: checkAlerts,
      idleMs: deps.config.MARKET_SYMBOL_GRACE_MS,
      // A series dropped from memory must be checked again (stored history, exchange) when next used.
      onEvict: (s, tf) => this.known.delete(`${s}|${tf}`),
    });
    const handler: KlineHandler = {
      onKline: (symbol, tf, candle, closed) => this.hub.onKline(symbol, tf, candle, closed),
      onReconnected: (symbol, tf) => this.hub.onReconnected(symbol, tf),
    };
    this.feed = deps.feed?.(handler, log) ?? new BinanceFeed({ config: deps.config, log, handler });
    this.tradingWatch = new TradingWatch({ db: deps.db, log, watch: (symbol, tf) => this.watchForTrading(symbol, tf) });
    // Delivered here at once and to the other instances, if any.
    this.stopFollowingTradedSeries = deps.bus.subscribe(
      tradedSeriesChanged,
      guarded(log, 'market traded-series sync', () => this.tradingWatch.sync()),
    );
    deps.stats.registerUpstream('binance', () => this.feed.openConnections());
  }

  /** Starts keeping every traded or alerted series watched (see TradingWatch) and loads the alerts; not awaited by boot. */
  async start(): Promise<void> {
    await Promise.all([this.alertWatch.start(), this.tradingWatch.start()]);
  }

  /** A traded series is watched like a viewer's, once the exchange has shown it exists. */
  private async watchForTrading(symbol: string, tf: Timeframe): Promise<() => void> {
    try {
      await this.symbols.check(symbol);
    } catch (err) {
      // A symbol the exchange does not know is never watched; retrying would not help.
      if (isBadRequest(err)) return () => {};
      throw err;
    }
    const keep = this.hub.retain(symbol, tf);
    try {
      await this.ensureKnown(symbol, tf);
      const release = this.feed.watch(symbol, tf);
      return () => {
        release();
        keep();
      };
    } catch (err) {
      keep();
      if (isBadRequest(err)) return () => {};
      throw err;
    }
  }

  /** The series' latest price: the forming candle's, else the last stored close. */
  private async lastPrice(symbol: string, tf: Timeframe): Promise<number | null> {
    return this.hub.lastPrice(symbol, tf) ?? (await this.store.latest(symbol, tf, 1))[0]?.candle.close ?? null;
  }

  /** Waits until the series' queued candles are applied and the strategies have seen them (tests). */
  async settled(symbol: string, tf: Timeframe): Promise<void> {
    await this.hub.settled(symbol, tf);
    await this.engine.settled(symbol, tf);
    await this.alertWatch.settled(symbol, tf);
  }

  /**
   * Before any upstream call for a series: the symbol must be listed, and starting a series this
   * instance does not keep yet (a REST history fetch, a stream) is counted against the caller's
   * hourly budget, consumed before the work so concurrent calls cannot all pass one check.
   * Concurrent calls for one new series share its one charge (series-starts.ts).
   */
  async admit(userId: string, symbol: string, tf: Timeframe): Promise<void> {
    await this.symbols.check(symbol);
    if (this.hub.has(symbol, tf) || this.feed.isLive(symbol, tf)) return;
    try {
      await this.newSeries.charge(userId, `${symbol}@${tf}`);
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const minutes = Math.max(1, Math.ceil(res.msBeforeNext / 60_000));
      throw new AppError(
        'TOO_MANY_REQUESTS',
        `You started ${this.deps.config.MARKET_NEW_SERIES_PER_USER_PER_HOUR} new symbol and timeframe pairs in the last hour, the most one account may: try again in ${minutes} min, or watch one already open.`,
      );
    }
  }

  /** The symbol as the exchange lists it (from the cached symbol list: no upstream call per ask). */
  async symbolInfo(symbol: string) {
    const { tickSize } = await this.symbols.check(symbol);
    return { symbol, tickSize };
  }

  async candles(userId: string, symbol: string, tf: Timeframe, limit: number) {
    await this.admit(userId, symbol, tf);
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
        if ((await this.store.latest(symbol, tf, 1)).length === 0)
          await this.fromExchange(this.hub.ensureHistory(symbol, tf, 0));
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
      if (err instanceof UnknownSymbolError)
        throw new AppError('BAD_REQUEST', `${err.message} Check the spelling, e.g. BTCUSDT.`);
      throw new AppError('SERVICE_UNAVAILABLE', 'The exchange did not answer: try again in a moment.', { cause: err });
    }
  }

  /** Watching is what makes the feed carry a symbol; it is released when the subscription ends. */
  async *live(
    viewer: { sessionId: string; userId: string },
    input: { symbol: string; timeframe: Timeframe; lastEventId?: string | null },
    scope: StreamScope,
  ) {
    await this.admit(viewer.userId, input.symbol, input.timeframe);
    // Refused before the exchange is asked for history: a full feed costs no REST call.
    if (this.feed.isFull(input.symbol, input.timeframe)) throw streamsFull();
    // Held in memory from here until the stream ends (then dropped after the grace period).
    const keep = this.hub.retain(input.symbol, input.timeframe);
    let release: () => void;
    try {
      await this.ensureKnown(input.symbol, input.timeframe);
      if (this.feed.isFull(input.symbol, input.timeframe)) throw streamsFull();
      release = this.feed.watch(input.symbol, input.timeframe);
    } catch (err) {
      keep();
      throw err;
    }
    const leave = this.join(viewer.sessionId, input.timeframe);
    yield* this.series(input.symbol, input.timeframe, input.lastEventId, scope, () => {
      leave();
      release();
      keep();
    });
  }

  /**
   * Replay-then-live for one series. The high-water mark is the candle's open time, not its
   * id: a backfilled candle gets a newer row id than later candles but must come in time order.
   */
  private series(
    symbol: string,
    tf: Timeframe,
    lastEventId: string | null | undefined,
    scope: StreamScope,
    onEnd: () => void,
  ) {
    return sharedTopic<ClosedCandleEvent, FormingCandleEvent>(scope, {
      bus: this.deps.bus,
      topic: seriesTopic(symbol, tf),
      onEnd,
      lastEventId,
      maxBuffered: 2000,
      replay: (after, limit) => this.reads.after(symbol, tf, after, limit),
      position: (e) => e.data.candle.openTime,
      // The newest candle by open time (its id maps back to that time through resumeFrom).
      head: () => this.reads.head(symbol, tf),
      livePosition: (forming) => forming.candle.openTime,
      resumeFrom: async (id) => {
        const from = await this.reads.byId(symbol, tf, id);
        if (from) return from.candle.openTime;
        if (await this.store.exists(id))
          throw new AppError(
            'BAD_REQUEST',
            `lastEventId ${id} is not a ${symbol} ${tf} candle: resubscribe without it.`,
          );
        throw resumeExpired(`Candle #${id} is`);
      },
      snapshot: () => this.hub.forming(symbol, tf),
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

  /** Series kept in memory: the hub's and the known-series cache (tests; both follow what is watched or traded). */
  kept(): { series: number; known: number } {
    return { series: this.hub.size(), known: this.known.size };
  }

  positions(userId: string) {
    return listPositions(this.deps.db, userId, (s, tf) => this.hub.lastPrice(s, tf));
  }

  trades(userId: string, cursor: number | null, limit: number) {
    return listTrades(this.deps.db, userId, cursor, limit);
  }

  listAlerts(userId: string, cursor: number | null, limit: number) {
    return this.alerts.list(userId, cursor, limit);
  }

  createAlert(userId: string, input: AlertCreateInput) {
    return this.alerts.create(userId, input);
  }

  removeAlert(userId: string, id: number) {
    return this.alerts.remove(userId, id);
  }

  rearmAlert(userId: string, id: number) {
    return this.alerts.rearm(userId, id);
  }

  close() {
    this.symbols.close();
    this.alertWatch.close();
    this.stopFollowingTradedSeries();
    this.tradingWatch.close();
    this.hub.close();
    this.feed.close();
  }

  private join(viewer: string, tf: Timeframe): () => void {
    let tfs = this.viewers.get(viewer);
    if (!tfs) this.viewers.set(viewer, (tfs = new Map()));
    countUp(tfs, tf);
    this.subscriptions++;
    return releaseOnce(() => {
      this.subscriptions--;
      if (countDown(tfs, tf) && tfs.size === 0) this.viewers.delete(viewer);
    });
  }
}
