import type { Config } from '../../config';
import type { Logger } from '../../log';
import { TIMEFRAMES, type Candle, type Timeframe } from '../../../shared/market';
import { decimal } from './binance-rest';
import { BinanceStream } from './binance-stream';

export interface KlineHandler {
  onKline(symbol: string, timeframe: Timeframe, candle: Candle, closed: boolean): void;
  onReconnected(symbol: string, timeframe: Timeframe): void;
}

interface KlinePayload {
  e: 'kline';
  k: { t: number; T: number; s: string; i: string; o: string; h: string; l: string; c: string; v: string; n: number; x: boolean };
}

const streamName = (symbol: string, tf: Timeframe) => `${symbol.toLowerCase()}@kline_${tf}`;

/**
 * A kline message, or null for anything else. Every field is checked, not cast: a frame with a
 * field missing or of another type (an API change, a proxy's page) must never become a candle,
 * and a NaN price stored once would poison the series' indicators for good.
 */
export function parseKline(data: unknown): { symbol: string; timeframe: Timeframe; candle: Candle; closed: boolean } | null {
  const p = data as Partial<KlinePayload> | null;
  if (p?.e !== 'kline' || !p.k || typeof p.k !== 'object' || !(TIMEFRAMES as readonly string[]).includes(p.k.i)) return null;
  const k = p.k;
  if (typeof k.s !== 'string' || !/^[A-Za-z0-9]{2,20}$/.test(k.s) || typeof k.x !== 'boolean') return null;
  if (!Number.isSafeInteger(k.t) || !Number.isSafeInteger(k.T) || k.T <= k.t || !Number.isSafeInteger(k.n) || k.n < 0) return null;
  const candle: Candle = { openTime: k.t, closeTime: k.T, open: decimal(k.o), high: decimal(k.h), low: decimal(k.l), close: decimal(k.c), volume: decimal(k.v), trades: k.n };
  if (![candle.open, candle.high, candle.low, candle.close, candle.volume].every((v) => Number.isFinite(v) && v >= 0)) return null;
  return { symbol: k.s.toUpperCase(), timeframe: k.i as Timeframe, candle, closed: k.x };
}

/**
 * Binance kline feed shared by every viewer: one connection per timeframe, opened when the
 * first symbol on it is watched and closed when none is left. Symbols nobody watches any
 * more are kept for a grace period, so a page reload does not churn SUBSCRIBE/UNSUBSCRIBE.
 */
export class BinanceFeed {
  private readonly streams = new Map<Timeframe, BinanceStream>();
  private readonly refs = new Map<string, number>();
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deps: { config: Config; log: Logger; handler: KlineHandler }) {}

  /** Ref-counted; call the returned function once when the viewer leaves. */
  watch(symbol: string, timeframe: Timeframe): () => void {
    const key = streamName(symbol, timeframe);
    const grace = this.graceTimers.get(key);
    if (grace) {
      clearTimeout(grace);
      this.graceTimers.delete(key);
    }
    this.refs.set(key, (this.refs.get(key) ?? 0) + 1);
    this.streamFor(timeframe).add(key);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.refs.get(key) ?? 1) - 1;
      if (n > 0) return void this.refs.set(key, n);
      this.refs.delete(key);
      const timer = setTimeout(() => this.drop(timeframe, key), this.deps.config.MARKET_SYMBOL_GRACE_MS);
      timer.unref();
      this.graceTimers.set(key, timer);
    };
  }

  /** Whether the series' stream is currently flowing (so history can trust it). */
  isLive(symbol: string, timeframe: Timeframe): boolean {
    const s = this.streams.get(timeframe);
    return !!s?.isOpen && s.streams().includes(streamName(symbol, timeframe));
  }

  openConnections(): number {
    let n = 0;
    for (const s of this.streams.values()) if (s.isOpen) n++;
    return n;
  }

  /** Symbols carried per timeframe (including those in their grace period). */
  carried(): { timeframe: Timeframe; symbols: string[]; connections: number }[] {
    return TIMEFRAMES.filter((tf) => this.streams.has(tf)).map((tf) => {
      const s = this.streams.get(tf)!;
      return { timeframe: tf, symbols: s.streams().map((x) => x.split('@')[0]!.toUpperCase()).sort(), connections: s.isOpen ? 1 : 0 };
    });
  }

  close() {
    for (const t of this.graceTimers.values()) clearTimeout(t);
    this.graceTimers.clear();
    for (const s of this.streams.values()) s.close();
    this.streams.clear();
  }

  private drop(timeframe: Timeframe, key: string) {
    this.graceTimers.delete(key);
    const s = this.streams.get(timeframe);
    if (!s) return;
    s.remove(key);
    if (s.size === 0) {
      s.close();
      this.streams.delete(timeframe);
    }
  }

  private streamFor(timeframe: Timeframe): BinanceStream {
    let s = this.streams.get(timeframe);
    if (s) return s;
    const c = this.deps.config;
    s = new BinanceStream({
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
        for (const key of s!.streams()) this.deps.handler.onReconnected(key.split('@')[0]!.toUpperCase(), timeframe);
      },
    });
    this.streams.set(timeframe, s);
    return s;
  }
}
