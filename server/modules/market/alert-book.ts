import type { Timeframe } from '../../../shared/market';
import type { AlertType } from '../../../shared/market-alerts';

export interface ArmedAlert {
  id: number;
  userId: string;
  symbol: string;
  timeframe: Timeframe;
  type: AlertType;
  value: number;
}

/**
 * One kind of threshold on one series, kept sorted so that the alerts a value crosses are the
 * tail of the array: "above" levels descending (a price of p crosses every level below p, at
 * the end), "below" levels ascending. An update that crosses nothing costs one comparison; one
 * that crosses k alerts a binary search and removing those k from the end (no shift of the rest).
 */
class Thresholds {
  private readonly items: ArmedAlert[] = [];

  /** `above`: fires when the value rises past the level; otherwise when it falls past it. */
  constructor(private readonly above: boolean) {}

  get size() {
    return this.items.length;
  }

  /** Sort order: the level crossed last first; ties by id, so removal finds its one. */
  private order = (x: ArmedAlert, y: ArmedAlert) =>
    x.value !== y.value ? (this.above ? y.value - x.value : x.value - y.value) : x.id - y.id;

  /** The index of the first item not before `a` in this order. */
  private seek(a: ArmedAlert): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order(this.items[mid]!, a) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(a: ArmedAlert) {
    this.items.splice(this.seek(a), 0, a);
  }

  /** Many at once (a start-up load): one sort instead of a splice each. */
  addAll(list: ArmedAlert[]) {
    for (const a of list) this.items.push(a);
    this.items.sort(this.order);
  }

  remove(a: ArmedAlert) {
    const i = this.seek(a);
    if (this.items[i]?.id === a.id) this.items.splice(i, 1);
  }

  /** Removes and returns every alert `x` crosses (strictly: a value equal to the level does not). */
  takeCrossed(x: number): ArmedAlert[] {
    const n = this.items.length;
    if (n === 0 || !this.crosses(x, this.items[n - 1]!.value)) return [];
    // The first index from which every level is crossed.
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.crosses(x, this.items[mid]!.value)) hi = mid;
      else lo = mid + 1;
    }
    return this.items.splice(lo);
  }

  private crosses(x: number, level: number) {
    return this.above ? x > level : x < level;
  }
}

class SeriesAlerts {
  readonly byType: Record<AlertType, Thresholds> = {
    price_above: new Thresholds(true),
    price_below: new Thresholds(false),
    rsi_above: new Thresholds(true),
    rsi_below: new Thresholds(false),
  };
  size = 0;
}

const seriesKey = (symbol: string, tf: Timeframe) => `${symbol}|${tf}`;

/**
 * Every armed alert of every user, per series, in memory: the state evaluated on each update.
 * It holds what the database says is armed (loaded at start, refreshed per alert on each
 * change); an alert leaves it the moment it is crossed, before its firing is written.
 */
export class AlertBook {
  private readonly series = new Map<string, SeriesAlerts>();
  private readonly byId = new Map<number, ArmedAlert>();

  get size() {
    return this.byId.size;
  }

  has(id: number) {
    return this.byId.has(id);
  }

  /** Adds an armed alert, or replaces the one with its id. */
  set(a: ArmedAlert) {
    this.delete(a.id);
    const key = seriesKey(a.symbol, a.timeframe);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = new SeriesAlerts()));
    s.byType[a.type].add(a);
    s.size++;
    this.byId.set(a.id, a);
  }

  delete(id: number) {
    const a = this.byId.get(id);
    if (!a) return;
    this.byId.delete(id);
    const key = seriesKey(a.symbol, a.timeframe);
    const s = this.series.get(key)!;
    s.byType[a.type].remove(a);
    if (--s.size === 0) this.series.delete(key);
  }

  clear() {
    this.series.clear();
    this.byId.clear();
  }

  /** Replaces everything with `alerts` (every armed alert, as the database lists them). */
  load(alerts: ArmedAlert[]) {
    this.clear();
    const grouped = new Map<string, Map<AlertType, ArmedAlert[]>>();
    for (const a of alerts) {
      if (this.byId.has(a.id)) continue;
      this.byId.set(a.id, a);
      const key = seriesKey(a.symbol, a.timeframe);
      let types = grouped.get(key);
      if (!types) grouped.set(key, (types = new Map()));
      const list = types.get(a.type);
      if (list) list.push(a);
      else types.set(a.type, [a]);
    }
    for (const [key, types] of grouped) {
      const s = new SeriesAlerts();
      for (const [type, list] of types) {
        s.byType[type].addAll(list);
        s.size += list.length;
      }
      this.series.set(key, s);
    }
  }

  /** A forming update's price: takes out and returns the price alerts it crosses. */
  onPrice(symbol: string, tf: Timeframe, price: number): ArmedAlert[] {
    return this.take(symbol, tf, 'price_above', 'price_below', price);
  }

  /** A closed candle's RSI: takes out and returns the RSI alerts it crosses. */
  onRsi(symbol: string, tf: Timeframe, rsi: number): ArmedAlert[] {
    return this.take(symbol, tf, 'rsi_above', 'rsi_below', rsi);
  }

  private take(symbol: string, tf: Timeframe, above: AlertType, below: AlertType, x: number): ArmedAlert[] {
    const s = this.series.get(seriesKey(symbol, tf));
    if (!s || !Number.isFinite(x)) return [];
    const up = s.byType[above].takeCrossed(x);
    const down = s.byType[below].takeCrossed(x);
    if (up.length === 0 && down.length === 0) return [];
    const crossed = up.length === 0 ? down : down.length === 0 ? up : up.concat(down);
    for (const a of crossed) this.byId.delete(a.id);
    s.size -= crossed.length;
    if (s.size === 0) this.series.delete(seriesKey(symbol, tf));
    return crossed;
  }
}
