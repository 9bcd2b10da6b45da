import { randomBytes } from 'node:crypto';
import type { ClosedCandleEvent } from '../../shared/market';

/** Added to the send time so clients can tell bench events from demo ones and read the time back. */
export const MARK = 1e12;

/**
 * market.live subscriptions the bench's slow client holds on its one socket: enough that one
 * saturation burst sends it more than loopback's socket buffers (~4 MB) plus the server's
 * default WS_MAX_BUFFERED_BYTES (4 MB) hold, so the burst ends in a cut (run.ts, extraClientBurst).
 */
export const STALL_SUBSCRIPTIONS = Number(process.env.BENCH_STALL_SUBS ?? 200);

/**
 * Hubcast's bench events that are published without being stored carry ids from here up: a
 * resume cannot start from one, so a client resumes from the last id below it that it got.
 */
export const UNSTORED_ID_BASE = 1_000_000;

/** The many-series scenario's symbols (many.ts): 50, listed by the bench's fake exchange. */
export const MANY_SYMBOLS = Array.from({ length: 50 }, (_, i) => `BENCH${String(i).padStart(2, '0')}USDT`);

/** Wall-clock ms with sub-ms precision, comparable across processes on one machine. */
export const nowMs = () => performance.timeOrigin + performance.now();

/**
 * The same candle update for all three servers: a real LiveEvent, about 560 bytes on Hubcast's wire.
 * `sentAt` is when it was due, not when the server got round to it: a producer held up by its
 * own synchronous broadcast must not make its latency look shorter.
 */
export function benchEvent(seq: number, sentAt: number): ClosedCandleEvent {
  const openTime = Date.UTC(2030, 0, 1) + seq * 60_000;
  return {
    symbol: 'BTCUSDT',
    timeframe: '1m',
    candle: {
      openTime,
      closeTime: sentAt + MARK,
      open: 97_123.45,
      high: 97_234.56,
      low: 97_012.34,
      close: 97_189.01,
      volume: 12.345678,
      trades: 1234,
    },
    closed: true,
    indicators: {
      sma20: 97_100.123456,
      ema9: 97_150.654321,
      ema21: 97_120.987654,
      rsi14: 55.123456,
      macd: { macd: 12.345678, signal: 10.987654, histogram: 1.358024 },
      bollinger: { upper: 97_400.111111, middle: 97_100.222222, lower: 96_800.333333 },
    },
  } as ClosedCandleEvent;
}

/** The send time a client reads back from a frame, or null when the frame is not a bench event. */
export function sentAtOf(frame: string): number | null {
  const i = frame.indexOf('"closeTime":');
  if (i < 0) return null;
  const v = Number.parseFloat(frame.slice(i + 12, i + 40));
  return v > MARK * 2.5 ? v - MARK : null;
}

/** The benchmark's database is in memory: a key made up per run, so no key file lands in ./.data. */
export function throwawayVaultKey(): string {
  return randomBytes(32).toString('base64');
}
