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

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function basePrice(symbol: string): number {
  if (symbol.startsWith('BTC')) return 60_000;
  if (symbol.startsWith('ETH')) return 3_000;
  if (symbol.startsWith('SOL')) return 150;
  return 1 + (hash(symbol) % 50_000) / 100;
}

const round = (x: number) => Number(x.toPrecision(8));

export class PriceBook {
  private readonly series = new Map<string, { origin: number; candles: FakeKline[]; rand: () => number }>();

  constructor(private readonly start: number) {}

  /** The candle that opens at `openTime`, generating the walk up to it. Null before the fake's history begins. */
  candle(symbol: string, interval: string, openTime: number): FakeKline | null {
    const s = this.get(symbol, interval);
    const tf = INTERVAL_MS[interval]!;
    const index = Math.floor((openTime - s.origin) / tf);
    if (index < 0) return null;
    while (s.candles.length <= index) s.candles.push(this.next(s, tf));
    return s.candles[index]!;
  }

  firstOpenTime(symbol: string, interval: string): number {
    return this.get(symbol, interval).origin;
  }

  /** What the candle containing `now` looks like so far: its final values, revealed gradually. */
  forming(symbol: string, interval: string, now: number): FakeKline {
    const tf = INTERVAL_MS[interval]!;
    const full = this.candle(symbol, interval, Math.floor(now / tf) * tf)!;
    const frac = Math.min(1, Math.max(0, (now - full.openTime) / tf));
    const close = round(full.open + (full.close - full.open) * frac);
    return {
      ...full,
      close,
      high: round(Math.max(full.open, close, full.open + (full.high - full.open) * frac)),
      low: round(Math.min(full.open, close, full.open - (full.open - full.low) * frac)),
      volume: round(full.volume * frac),
      trades: Math.floor(full.trades * frac),
    };
  }

  private get(symbol: string, interval: string) {
    const key = `${symbol}|${interval}`;
    let s = this.series.get(key);
    if (!s) {
      const tf = INTERVAL_MS[interval]!;
      s = { origin: Math.floor(this.start / tf) * tf - HISTORY * tf, candles: [], rand: mulberry32(hash(key)) };
      this.series.set(key, s);
    }
    return s;
  }

  private next(s: { origin: number; candles: FakeKline[]; rand: () => number }, tf: number): FakeKline {
    const prev = s.candles.at(-1);
    const openTime = s.origin + s.candles.length * tf;
    const open = prev ? prev.close : basePrice(this.symbolOf(s));
    const vol = 0.002 * Math.sqrt(tf / 60_000);
    // Box-Muller: normal returns make RSI and crosses move like a market would.
    const g = Math.sqrt(-2 * Math.log(1 - s.rand())) * Math.cos(2 * Math.PI * s.rand());
    const close = round(open * (1 + g * vol));
    const high = round(Math.max(open, close) * (1 + s.rand() * vol * 0.5));
    const low = round(Math.min(open, close) * (1 - s.rand() * vol * 0.5));
    return { openTime, closeTime: openTime + tf - 1, open, high, low, close, volume: round(10 + s.rand() * 100), trades: 50 + Math.floor(s.rand() * 500) };
  }

  private symbolOf(s: object): string {
    for (const [key, v] of this.series) if (v === s) return key.split('|')[0]!;
    return '';
  }
}
