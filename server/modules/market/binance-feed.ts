import type { Config } from '../../config';
import type { Logger } from '../../log';
import { TIMEFRAMES, type Candle, type Timeframe } from '../../../shared/market';
import { decimal, storableCandle } from './binance-rest';
import { BinanceStream, MAX_STREAMS_PER_CONNECTION } from './binance-stream';
import { AppError } from '../../errors';
import { guarded } from '../../guarded';
import { countDown, countUp, releaseOnce } from '../../ref-count';

export interface KlineHandler {
  onKline(symbol: string, timeframe: Timeframe, candle: Candle, closed: boolean): void;
  onReconnected(symbol: string, timeframe: Timeframe): void;
}

interface KlinePayload {
  e: 'kline';
  k: {
    t: number;
    T: number;
    s: string;
    i: string;
    o: string;
    h: string;
    l: string;
    c: string;
    v: string;
    n: number;
    x: boolean;
  };
}

const streamName = (symbol: string, tf: Timeframe) => `${symbol.toLowerCase()}@kline_${tf}`;

/**
 * A kline message, or null for anything else. Every field is checked, not cast: a frame with a
 * field missing or of another type (an API change, a proxy's page) must never become a candle,
 * and a NaN price stored once would poison the series' indicators for good.
 */
export function parseKline(
  data: unknown,
): { symbol: string; timeframe: Timeframe; candle: Candle; closed: boolean } | null {
  const p = data as Partial<KlinePayload> | null;
  if (p?.e !== 'kline' || !p.k || typeof p.k !== 'object' || !(TIMEFRAMES as readonly string[]).includes(p.k.i))
    return null;
  const k = p.k;
  if (typeof k.s !== 'string' || !/^[A-Za-z0-9]{2,20}$/.test(k.s) || typeof k.x !== 'boolean') return null;
  const candle: Candle = {
    openTime: k.t,
    closeTime: k.T,
    open: decimal(k.o),
    high: decimal(k.h),
    low: decimal(k.l),
    close: decimal(k.c),
    volume: decimal(k.v),
    trades: k.n,
  };
  if (!storableCandle(candle)) return null;
  return { symbol: k.s.toUpperCase(), timeframe: k.i as Timeframe, candle, closed: k.x };
}

/** Past MARKET_MAX_STREAMS_PER_TIMEFRAME: said to the one caller asking for a new series. */
export const streamsFull = () =>
  new AppError(
    'TOO_MANY_REQUESTS',
    'Hubcast follows as many markets as it can right now: try a symbol already followed, or try again later.',
  );

/** What MarketService uses of a feed: BinanceFeed itself, or the cluster-wide one (cluster-feed.ts). */
export type MarketFeed = Pick<BinanceFeed, 'watch' | 'isFull' | 'isLive' | 'openConnections' | 'carried' | 'close'>;

/**
 * Binance kline feed shared by every viewer: per timeframe, as many connections as its
 * symbols need (Binance carries at most 1,024 streams on one), up to
 * MARKET_MAX_STREAMS_PER_TIMEFRAME; opened when needed and closed when empty. Symbols nobody
 * watches any more are kept for a grace period, so a page reload does not churn
 * SUBSCRIBE/UNSUBSCRIBE; at the cap, one in its grace period makes room for a new one.
 */
export class BinanceFeed {
  private readonly streams = new Map<Timeframe, Set<BinanceStream>>();
  /** Stream key → the connection carrying it. */
  private readonly carrier = new Map<string, BinanceStream>();
  private readonly refs = new Map<string, number>();
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deps: { config: Config; log: Logger; handler: KlineHandler }) {}

  /** Whether watching this series now would be refused (it is not carried and the timeframe is full). */
  isFull(symbol: string, timeframe: Timeframe): boolean {
    const key = streamName(symbol, timeframe);
    if (this.carrier.has(key)) return false;
    return this.count(timeframe) >= this.deps.config.MARKET_MAX_STREAMS_PER_TIMEFRAME && !this.graceKey(timeframe);
  }

  /** Ref-counted; call the returned function once when the viewer leaves. Throws streamsFull() past the cap. */
  watch(symbol: string, timeframe: Timeframe): () => void {
    const key = streamName(symbol, timeframe);
    if (!this.carrier.has(key)) this.carry(timeframe, key);
    const grace = this.graceTimers.get(key);
    if (grace) {
      clearTimeout(grace);
      this.graceTimers.delete(key);
    }
    countUp(this.refs, key);
    return releaseOnce(() => {
      if (!countDown(this.refs, key)) return;
      const timer = setTimeout(
        guarded(this.deps.log, 'market unsubscribe', () => this.drop(key)),
        this.deps.config.MARKET_SYMBOL_GRACE_MS,
      );
      timer.unref();
      this.graceTimers.set(key, timer);
    });
  }

  /** Whether the series' stream is currently flowing (so history can trust it). */
  isLive(symbol: string, timeframe: Timeframe): boolean {
    return !!this.carrier.get(streamName(symbol, timeframe))?.isOpen;
  }

  openConnections(): number {
    let n = 0;
    for (const set of this.streams.values()) for (const s of set) if (s.isOpen) n++;
    return n;
  }

  /** Symbols carried per timeframe (including those in their grace period), and its open connections. */
  carried(): { timeframe: Timeframe; symbols: string[]; connections: number }[] {
    return TIMEFRAMES.filter((tf) => this.streams.has(tf)).map((tf) => {
      const set = [...this.streams.get(tf)!];
      return {
        timeframe: tf,
        symbols: set.flatMap((s) => s.streams().map((x) => x.split('@')[0]!.toUpperCase())).sort(),
        connections: set.filter((s) => s.isOpen).length,
      };
    });
  }

  close() {
    for (const t of this.graceTimers.values()) clearTimeout(t);
    this.graceTimers.clear();
    for (const set of this.streams.values()) for (const s of set) s.close();
    this.streams.clear();
    this.carrier.clear();
  }

  private count(tf: Timeframe): number {
    let n = 0;
    for (const s of this.streams.get(tf) ?? []) n += s.size;
    return n;
  }

  private graceKey(tf: Timeframe): string | undefined {
    for (const key of this.graceTimers.keys()) if (key.endsWith(`@kline_${tf}`)) return key;
    return undefined;
  }

  /** Puts a new key on a connection of its timeframe with room, opening one if none has. */
  private carry(tf: Timeframe, key: string) {
    if (this.count(tf) >= this.deps.config.MARKET_MAX_STREAMS_PER_TIMEFRAME) {
      const idle = this.graceKey(tf);
      if (!idle) throw streamsFull();
      clearTimeout(this.graceTimers.get(idle));
      this.drop(idle);
    }
    let set = this.streams.get(tf);
    if (!set) this.streams.set(tf, (set = new Set()));
    let s = [...set].find((c) => c.size < MAX_STREAMS_PER_CONNECTION);
    if (!s) set.add((s = this.open(tf)));
    s.add(key);
    this.carrier.set(key, s);
  }

  private drop(key: string) {
    this.graceTimers.delete(key);
    const s = this.carrier.get(key);
    if (!s) return;
    this.carrier.delete(key);
    s.remove(key);
    if (s.size > 0) return;
    s.close();
    for (const [tf, set] of this.streams) {
      if (!set.delete(s)) continue;
      if (set.size === 0) this.streams.delete(tf);
    }
  }

  private open(timeframe: Timeframe): BinanceStream {
    const c = this.deps.config;
    const s: BinanceStream = new BinanceStream({
      url: c.BINANCE_WS_URL,
      controlMsgsPerSec: c.MARKET_CONTROL_MSGS_PER_SEC,
      reconnectMinMs: c.MARKET_RECONNECT_MIN_MS,
      reconnectMaxMs: c.MARKET_RECONNECT_MAX_MS,
      maxAgeMs: c.MARKET_WS_MAX_AGE_MS,
      idleMs: c.MARKET_WS_IDLE_MS,
      handshakeTimeoutMs: c.UPSTREAM_TIMEOUT_MS ?? 10_000,
      log: this.deps.log.child({ upstream: 'binance', timeframe }),
      onFrame: (_stream, data) => {
        const k = parseKline(data);
        if (k) this.deps.handler.onKline(k.symbol, k.timeframe, k.candle, k.closed);
      },
      onReconnected: () => {
        for (const key of s.streams()) this.deps.handler.onReconnected(key.split('@')[0]!.toUpperCase(), timeframe);
      },
    });
    return s;
  }
}
