import type { Config } from '../../config';
import type { Logger } from '../../log';
import { topic, type EventBus } from '../../realtime/bus';
import { TIMEFRAMES, type Timeframe } from '../../../shared/market';
import { BinanceFeed, streamsFull, type KlineHandler, type MarketFeed } from './binance-feed';
import { guarded } from '../../guarded';
import type { Elector, Singleton } from '../../cluster/elector';
import { countDown, countUp, releaseOnce } from '../../ref-count';

type WatchMessage =
  { kind: 'watching'; instance: string; tf: Timeframe; symbols: string[] } | { kind: 'ask'; instance: string };
const watches = topic<WatchMessage>('cluster:market-watches');

/** Every instance repeats what it watches this often; a silent instance's watches lapse after three periods. */
const ANNOUNCE_MS = 5_000;

/**
 * One Binance connection per timeframe in the whole cluster. The instance leading the singleton
 * `binance:<tf>` holds it and carries every symbol watched on any instance (each announces its
 * own on the bus); the others open none, their viewers get the candles through the bus. When the
 * leader dies, the next one opens the connection and the series backfill from REST whatever
 * closed meanwhile (SeriesHub's gap rule), so no candle goes missing. Strategies run on the
 * instance whose insert stored a closed candle (it is stored once), so none trades twice.
 */
export class ClusterFeed implements MarketFeed {
  private readonly local = new Map<Timeframe, Map<string, number>>();
  private readonly remote = new Map<Timeframe, Map<string, { symbols: string[]; at: number }>>();
  private readonly led = new Map<Timeframe, { feed: BinanceFeed; released: Map<string, () => void> }>();
  private readonly singletons = new Map<Timeframe, Singleton>();
  private readonly unsubscribe: () => void;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** Per timeframe: wanted symbols the leader could not carry (past the cap), logged when it changes. */
  private readonly overflow = new Map<Timeframe, number>();

  constructor(
    private readonly deps: { config: Config; log: Logger; handler: KlineHandler; bus: EventBus; cluster: Elector },
  ) {
    // Another instance's message runs this: whatever it makes throw stays here.
    this.unsubscribe = deps.bus.subscribe(
      watches,
      guarded(deps.log, 'market watch message', (m: WatchMessage) => this.onMessage(m)),
    );
    for (const tf of TIMEFRAMES) {
      // The elector calls these from its round (callHooks logs what they throw).
      this.singletons.set(
        tf,
        deps.cluster.singleton(`binance:${tf}`, { onLead: () => this.reconcile(tf), onLose: () => this.lose(tf) }),
      );
    }
    this.timer = setInterval(
      guarded(deps.log, 'market watch announcement', () => {
        for (const tf of TIMEFRAMES) if (this.local.get(tf)?.size) this.announce(tf);
        for (const tf of TIMEFRAMES) this.reconcile(tf);
      }),
      ANNOUNCE_MS,
    );
    this.timer.unref();
    deps.bus.publish(watches, { kind: 'ask', instance: deps.cluster.instanceId });
  }

  /** A new symbol past the cap, counting every symbol the cluster is known to watch (announcements lag by up to ANNOUNCE_MS). */
  isFull(symbol: string, timeframe: Timeframe): boolean {
    if (this.local.get(timeframe)?.has(symbol)) return false;
    const wanted = this.wanted(timeframe);
    return !wanted.has(symbol) && wanted.size >= this.deps.config.MARKET_MAX_STREAMS_PER_TIMEFRAME;
  }

  watch(symbol: string, timeframe: Timeframe): () => void {
    if (this.isFull(symbol, timeframe)) throw streamsFull();
    let refs = this.local.get(timeframe);
    if (!refs) this.local.set(timeframe, (refs = new Map()));
    if (countUp(refs, symbol)) this.changed(timeframe);
    return releaseOnce(() => {
      if (countDown(refs, symbol)) this.changed(timeframe);
    });
  }

  isLive(symbol: string, timeframe: Timeframe): boolean {
    return this.led.get(timeframe)?.feed.isLive(symbol, timeframe) ?? false;
  }

  openConnections(): number {
    let n = 0;
    for (const { feed } of this.led.values()) n += feed.openConnections();
    return n;
  }

  carried() {
    return TIMEFRAMES.flatMap((tf) => this.led.get(tf)?.feed.carried() ?? []);
  }

  close() {
    this.closed = true;
    clearInterval(this.timer);
    this.unsubscribe();
    for (const tf of [...this.led.keys()]) this.lose(tf);
  }

  private changed(tf: Timeframe) {
    this.announce(tf);
    this.reconcile(tf);
  }

  private announce(tf: Timeframe) {
    if (this.closed) return;
    this.deps.bus.publish(watches, {
      kind: 'watching',
      instance: this.deps.cluster.instanceId,
      tf,
      symbols: [...(this.local.get(tf)?.keys() ?? [])],
    });
  }

  private onMessage(m: WatchMessage) {
    if (m.instance === this.deps.cluster.instanceId) return;
    if (m.kind === 'ask') {
      for (const tf of TIMEFRAMES) if (this.local.get(tf)?.size) this.announce(tf);
      return;
    }
    let byInstance = this.remote.get(m.tf);
    if (!byInstance) this.remote.set(m.tf, (byInstance = new Map()));
    byInstance.set(m.instance, { symbols: m.symbols, at: Date.now() });
    this.reconcile(m.tf);
  }

  /** Every symbol of `tf` watched anywhere in the cluster (announcements older than three periods lapse). */
  private wanted(tf: Timeframe): Set<string> {
    const all = new Set(this.local.get(tf)?.keys() ?? []);
    const byInstance = this.remote.get(tf);
    for (const [instance, w] of byInstance ?? []) {
      if (Date.now() - w.at > 3 * ANNOUNCE_MS) byInstance!.delete(instance);
      else for (const s of w.symbols) all.add(s);
    }
    return all;
  }

  /** As leader: carry exactly the wanted symbols (releases go through the feed's grace period). */
  private reconcile(tf: Timeframe) {
    if (this.closed || !this.singletons.get(tf)?.isLeader()) return;
    const wanted = this.wanted(tf);
    let mine = this.led.get(tf);
    if (!mine) {
      if (wanted.size === 0) return;
      // A fresh feed per led timeframe, so losing the lead closes exactly that connection.
      this.led.set(
        tf,
        (mine = {
          feed: new BinanceFeed({ config: this.deps.config, log: this.deps.log, handler: this.deps.handler }),
          released: new Map(),
        }),
      );
      this.deps.log.info({ timeframe: tf }, 'holding the Binance connection for the cluster');
    }
    // Releases first, so their room goes to the symbols still wanted.
    for (const [s, release] of mine.released) {
      if (wanted.has(s)) continue;
      release();
      mine.released.delete(s);
    }
    // Instances announcing together can want more than the cap: the leader carries what fits and
    // never throws here (this runs in a timer and a bus handler, and the next leader would run it too).
    let refused = 0;
    for (const s of wanted) {
      if (mine.released.has(s)) continue;
      if (mine.feed.isFull(s, tf)) {
        refused++;
        continue;
      }
      mine.released.set(s, mine.feed.watch(s, tf));
    }
    if (refused !== (this.overflow.get(tf) ?? 0)) {
      this.overflow.set(tf, refused);
      if (refused)
        this.deps.log.warn(
          { timeframe: tf, refused, cap: this.deps.config.MARKET_MAX_STREAMS_PER_TIMEFRAME },
          'market: more symbols wanted than the feed may carry; the rest are not streamed',
        );
    }
  }

  private lose(tf: Timeframe) {
    const mine = this.led.get(tf);
    if (!mine) return;
    this.led.delete(tf);
    mine.feed.close();
  }
}
