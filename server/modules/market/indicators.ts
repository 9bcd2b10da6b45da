import { BollingerBands, EMA, MACD, RSI, SMA } from 'trading-signals';
import type { Indicators } from '../../../shared/market';

/**
 * Incremental indicators for one (symbol, timeframe). Each closed candle is one input; the
 * forming candle is the last input too, but replaced (not added) on every update until it
 * closes, so per-message cost is O(1) and closed values match a plain run over closes.
 */
export class IndicatorState {
  private readonly sma20 = new SMA(20);
  private readonly ema9 = new EMA(9);
  private readonly ema21 = new EMA(21);
  private readonly rsi14 = new RSI(14);
  private readonly macd = new MACD(new EMA(12), new EMA(26), new EMA(9));
  private readonly bollinger = new BollingerBands(20, 2);
  /** Open time of the forming candle currently held as the last input, if any. */
  formingOpenTime: number | null = null;

  /**
   * A closed candle. Replaces the forming input if one is held, whichever candle it was: a
   * forming price is never left standing as if it had closed (after a gap, the candle that
   * closes may be an earlier one than the forming update seen last).
   */
  close(openTime: number, price: number): Indicators {
    const replace = this.formingOpenTime !== null;
    this.formingOpenTime = null;
    return this.update(price, replace);
  }

  /** A forming-candle update: adds an input when none is held, else replaces the held one (even of another candle). */
  forming(openTime: number, price: number): Indicators {
    const replace = this.formingOpenTime !== null;
    this.formingOpenTime = openTime;
    return this.update(price, replace);
  }

  private update(price: number, replace: boolean): Indicators {
    this.sma20.update(price, replace);
    this.ema9.update(price, replace);
    this.ema21.update(price, replace);
    this.rsi14.update(price, replace);
    this.macd.update(price, replace);
    this.bollinger.update(price, replace);
    const stable = <T>(ind: { isStable: boolean; getResult(): T | null }) => (ind.isStable ? ind.getResult() : null);
    const macd = stable(this.macd);
    const bb = stable(this.bollinger);
    return {
      sma20: stable(this.sma20),
      ema9: stable(this.ema9),
      ema21: stable(this.ema21),
      rsi14: stable(this.rsi14),
      macd: macd ? { macd: macd.macd, signal: macd.signal, histogram: macd.histogram } : null,
      bollinger: bb ? { upper: bb.upper, middle: bb.middle, lower: bb.lower } : null,
    };
  }
}
