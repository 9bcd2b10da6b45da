/**
 * Deterministic random-walk candles for the fake exchange: the same (symbol, interval) gives
 * the same history in every run, so a test can recompute what the server should have stored.
 */
export interface FakeKline {
  openTime: number;
  closeTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  trades: number;
}

export const INTERVAL_MS: Record<string, number> = {
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '4h': 14_400_000,
  '6h': 21_600_000,
  '8h': 28_800_000,
  '12h': 43_200_000,
  '1d': 86_400_000,
};

const HISTORY = 1500;
const MINUTE = 60_000;
/** Octave k moves over 2^k minutes: from one minute to 2^16 minutes (about 45 days). */
const OCTAVES = 17;
/** Log-price scale per octave is SIGMA·√(2^k): about 0.1 % a minute, 3 % a day, like a real market. */
const SIGMA = 0.0009;
const WICK = 0.0006;
const SPANS = Array.from({ length: OCTAVES }, (_, k) => 2 ** k);
const SCALES = SPANS.map((span) => SIGMA * Math.sqrt(span));
/** Candles kept before the cache starts again. */
const CACHE_LIMIT = 200_000;

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A well-mixed integer hash of (seed, a, b) into [0, 1). */
function unit(seed: number, a: number, b: number): number {
  let h =
    seed ^
    Math.imul(a + 0x9e3779b9, 0x85ebca6b) ^
    Math.imul(b | 0, 0xc2b2ae35) ^
    Math.imul(Math.floor(b / 4294967296), 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

function basePrice(symbol: string): number {
  if (symbol.startsWith('BTC')) return 60_000;
  if (symbol.startsWith('ETH')) return 3_000;
  if (symbol.startsWith('SOL')) return 150;
  return 1 + (hash(symbol) % 50_000) / 100;
}

/** Eight significant digits, like exchange prices (numerically: toPrecision is a string round trip, too slow here). */
const minuteVolume = (h: number) => 0.2 + (((h >>> 16) & 0xff) / 256) * 2;
const minuteTrades = (h: number) => 1 + Math.floor(((h >>> 24) / 256) * 10);

const round = (x: number) => {
  if (x === 0) return 0;
  const scale = 10 ** (7 - Math.floor(Math.log10(Math.abs(x))));
  return Math.round(x * scale) / scale;
};

/**
 * One price path per symbol, a pure function of time (layered value noise, a random walk in
 * character), and every interval's candles aggregated from its one-minute candles: as on a
 * real exchange, BTCUSDT's 5m candle is exactly its five 1m candles, and the forming candles of
 * all intervals show the same current price.
 */
export class PriceBook {
  private readonly cache = new Map<string, FakeKline>();

  constructor(private readonly start: number) {}

  /** The candle that opens at `openTime`. Null before the fake's history begins. */
  candle(symbol: string, interval: string, openTime: number): FakeKline | null {
    const tf = INTERVAL_MS[interval]!;
    if (openTime < this.firstOpenTime(symbol, interval)) return null;
    const key = `${symbol}|${interval}|${openTime}`;
    let k = this.cache.get(key);
    if (!k) {
      k = this.aggregate(symbol, openTime, tf / MINUTE, tf);
      if (this.cache.size > CACHE_LIMIT) this.cache.clear();
      this.cache.set(key, k);
    }
    return k;
  }

  firstOpenTime(_symbol: string, interval: string): number {
    const tf = INTERVAL_MS[interval]!;
    return Math.floor(this.start / tf) * tf - HISTORY * tf;
  }

  /** The candle containing `now` as it stands at `now`: its minutes so far, the last one partly. */
  forming(symbol: string, interval: string, now: number): FakeKline {
    const tf = INTERVAL_MS[interval]!;
    const openTime = Math.floor(now / tf) * tf;
    const whole = Math.floor((now - openTime) / MINUTE);
    const done = whole > 0 ? this.aggregate(symbol, openTime, whole, tf) : null;
    const partStart = openTime + whole * MINUTE;
    const open = this.price(symbol, partStart / MINUTE);
    const price = this.price(symbol, now / MINUTE);
    const frac = (now - partStart) / MINUTE;
    const h = (unit(hash(symbol), 101, partStart / MINUTE) * 4294967296) >>> 0;
    const partVolume = round(minuteVolume(h) * frac);
    const partTrades = Math.floor(minuteTrades(h) * frac);
    return {
      openTime,
      closeTime: openTime + tf - 1,
      open: done?.open ?? open,
      close: price,
      high: Math.max(done?.high ?? open, open, price),
      low: Math.min(done?.low ?? open, open, price),
      volume: round((done?.volume ?? 0) + partVolume),
      trades: (done?.trades ?? 0) + partTrades,
    };
  }

  /** The first `minutes` one-minute candles from `openTime`, folded into one candle of length `tf`. */
  private aggregate(symbol: string, openTime: number, minutes: number, tf: number): FakeKline {
    const m0 = openTime / MINUTE;
    const prices = this.prices(symbol, m0, minutes);
    let high = -Infinity;
    let low = Infinity;
    let volume = 0;
    let trades = 0;
    const seed = hash(symbol);
    for (let j = 0; j < minutes; j++) {
      const [o, c, m] = [prices[j]!, prices[j + 1]!, m0 + j];
      // One hash a minute, its four bytes for the two wicks, the volume and the trade count.
      const h = (unit(seed, 101, m) * 4294967296) >>> 0;
      high = Math.max(high, round(Math.max(o, c) * (1 + ((h & 0xff) / 256) * WICK)));
      low = Math.min(low, round(Math.min(o, c) * (1 - (((h >>> 8) & 0xff) / 256) * WICK)));
      volume += minuteVolume(h);
      trades += minuteTrades(h);
    }
    return {
      openTime,
      closeTime: openTime + tf - 1,
      open: prices[0]!,
      close: prices[minutes]!,
      high,
      low,
      volume: round(volume),
      trades,
    };
  }

  /** The price at minute `m` (fractional between minutes): base × e^(sum of octaves). */
  private price(symbol: string, m: number): number {
    return this.prices(symbol, m, 0)[0]!;
  }

  /**
   * Prices at minutes m0, m0+1, … m0+n. Same arithmetic as one at a time, but each octave's
   * two grid values are hashed only when the walk crosses into its next cell.
   */
  private prices(symbol: string, m0: number, n: number): Float64Array {
    const seed = hash(symbol);
    const base = basePrice(symbol);
    const cells = Array.from({ length: OCTAVES }, () => ({ i: NaN, a: 0, b: 0 }));
    const out = new Float64Array(n + 1);
    for (let j = 0; j <= n; j++) {
      const m = m0 + j;
      let log = 0;
      for (let k = 0; k < OCTAVES; k++) {
        const span = SPANS[k]!;
        const x = m / span;
        const i = Math.floor(x);
        const cell = cells[k]!;
        if (cell.i !== i) {
          cell.a = cell.i === i - 1 ? cell.b : unit(seed, k, i) * 2 - 1;
          cell.b = unit(seed, k, i + 1) * 2 - 1;
          cell.i = i;
        }
        log += SCALES[k]! * (cell.a + (cell.b - cell.a) * (x - i));
      }
      out[j] = round(base * Math.exp(log));
    }
    return out;
  }
}
