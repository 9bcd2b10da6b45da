import type { Candle, Indicators } from '../../../../shared/market';

/** One candle with the indicators computed for it. */
export interface ChartPoint {
  candle: Candle;
  indicators: Indicators;
}
type Point = ChartPoint;

// What the chart draws besides the candles, and in which pane: 0 the price, 1 RSI, 2 MACD.

export interface LineLayer {
  key: string;
  pane: 0 | 1 | 2;
  color: string;
  /** Drawn over the price: named in the legend under the chart, not on the price scale. */
  overlay: boolean;
  pick: (p: Point) => number | null | undefined;
}

export interface BarLayer {
  key: string;
  pane: 0 | 2;
  /** Volume keeps a scale of its own at the foot of the price pane. */
  priceScaleId?: string;
  pick: (p: Point) => { value: number; color: string } | null;
}

const GREY = 'rgba(139,148,158,0.7)';
const UP = 'rgba(63,185,80,0.45)';
const DOWN = 'rgba(248,81,73,0.45)';

export const LINES: LineLayer[] = [
  { key: 'SMA 20', pane: 0, color: '#d29922', overlay: true, pick: (p) => p.indicators.sma20 },
  { key: 'EMA 9', pane: 0, color: '#58a6ff', overlay: true, pick: (p) => p.indicators.ema9 },
  { key: 'EMA 21', pane: 0, color: '#bc8cff', overlay: true, pick: (p) => p.indicators.ema21 },
  { key: 'BB upper', pane: 0, color: GREY, overlay: true, pick: (p) => p.indicators.bollinger?.upper },
  { key: 'BB lower', pane: 0, color: GREY, overlay: true, pick: (p) => p.indicators.bollinger?.lower },
  { key: 'RSI 14', pane: 1, color: '#d2a8ff', overlay: false, pick: (p) => p.indicators.rsi14 },
  { key: 'MACD', pane: 2, color: '#58a6ff', overlay: false, pick: (p) => p.indicators.macd?.macd },
  { key: 'Signal', pane: 2, color: '#d29922', overlay: false, pick: (p) => p.indicators.macd?.signal },
];

export const BARS: BarLayer[] = [
  {
    key: 'Volume',
    pane: 0,
    priceScaleId: 'volume',
    pick: ({ candle: k }) => ({ value: k.volume, color: k.close >= k.open ? UP : DOWN }),
  },
  {
    key: 'MACD histogram',
    pane: 2,
    pick: ({ indicators: i }) =>
      i.macd ? { value: i.macd.histogram, color: i.macd.histogram >= 0 ? UP : DOWN } : null,
  },
];

/** RSI's usual overbought and oversold guides. */
export const RSI_GUIDES = [70, 30];
