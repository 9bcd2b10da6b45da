import {
  CandlestickSeries,
  ColorType,
  createChart,
  LineSeries,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef, useState } from 'react';
import type { Candle, Indicators } from '../../../../shared/market';

export interface ChartPoint {
  candle: Candle;
  indicators: Indicators;
}

const time = (ms: number) => (ms / 1000) as UTCTimestamp;

const OVERLAYS: { key: string; color: string; pick: (i: Indicators) => number | null | undefined }[] = [
  { key: 'SMA 20', color: '#d29922', pick: (i) => i.sma20 },
  { key: 'EMA 9', color: '#58a6ff', pick: (i) => i.ema9 },
  { key: 'EMA 21', color: '#bc8cff', pick: (i) => i.ema21 },
  { key: 'BB upper', color: 'rgba(139,148,158,0.7)', pick: (i) => i.bollinger?.upper },
  { key: 'BB lower', color: 'rgba(139,148,158,0.7)', pick: (i) => i.bollinger?.lower },
];

/**
 * TradingView's lightweight-charts: history is set once per series, live points go through
 * update() (cheap, no re-render of React). data-last-candle-time lets tests see the chart move.
 */
export function CandleChart({ history, live }: { history: ChartPoint[]; live: ChartPoint | null }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<{ api: IChartApi; candles: ISeriesApi<'Candlestick'>; lines: ISeriesApi<'Line'>[] } | null>(
    null,
  );
  const [lastTime, setLastTime] = useState<number | null>(null);

  useEffect(() => {
    const api = createChart(box.current!, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: 'transparent' }, textColor: '#8b949e' },
      grid: { vertLines: { color: '#21262d' }, horzLines: { color: '#21262d' } },
      timeScale: { timeVisible: true, secondsVisible: false },
    });
    const candles = api.addSeries(CandlestickSeries, {
      upColor: '#3fb950',
      downColor: '#f85149',
      wickUpColor: '#3fb950',
      wickDownColor: '#f85149',
      borderVisible: false,
    });
    const lines = OVERLAYS.map((o) =>
      api.addSeries(LineSeries, {
        color: o.color,
        lineWidth: 1,
        priceLineVisible: false,
        lastValueVisible: false,
        title: o.key,
      }),
    );
    chart.current = { api, candles, lines };
    return () => {
      chart.current = null;
      api.remove();
    };
  }, []);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.candles.setData(
      history.map(({ candle: k }) => ({
        time: time(k.openTime),
        open: k.open,
        high: k.high,
        low: k.low,
        close: k.close,
      })),
    );
    OVERLAYS.forEach((o, n) =>
      c.lines[n]!.setData(
        history.flatMap((p) => {
          const v = o.pick(p.indicators);
          return v == null ? [] : [{ time: time(p.candle.openTime), value: v }];
        }),
      ),
    );
    c.api.timeScale().fitContent();
    setLastTime(history.at(-1)?.candle.openTime ?? null);
  }, [history]);

  useEffect(() => {
    const c = chart.current;
    if (!c || !live) return;
    const k = live.candle;
    // update() refuses a point older than the last one (a late message): skip it.
    if (lastTime !== null && k.openTime < lastTime) return;
    try {
      c.candles.update({ time: time(k.openTime), open: k.open, high: k.high, low: k.low, close: k.close });
      OVERLAYS.forEach((o, n) => {
        const v = o.pick(live.indicators);
        if (v != null) c.lines[n]!.update({ time: time(k.openTime), value: v });
      });
    } catch {
      return;
    }
    if (k.openTime !== lastTime) setLastTime(k.openTime);
  }, [live]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <div className="market-chart-wrap">
      <div ref={box} className="market-chart" data-testid="market-chart" data-last-candle-time={lastTime ?? ''} />
      <div className="market-legend">
        {OVERLAYS.map((o) => (
          <span key={o.key} style={{ color: o.color }}>
            {o.key}
          </span>
        ))}
      </div>
    </div>
  );
}
