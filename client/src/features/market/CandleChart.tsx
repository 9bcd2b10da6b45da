import {
  CandlestickSeries,
  ColorType,
  createChart,
  HistogramSeries,
  LineSeries,
  LineStyle,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef } from 'react';
import { BARS, LINES, RSI_GUIDES, type ChartPoint } from './chart-layers';
import { tickDecimals } from './format';

export type { ChartPoint };

const time = (ms: number) => (ms / 1000) as UTCTimestamp;

interface Drawn {
  api: IChartApi;
  candles: ISeriesApi<'Candlestick'>;
  lines: ISeriesApi<'Line'>[];
  bars: ISeriesApi<'Histogram'>[];
}

/**
 * TradingView's lightweight-charts: candles, overlays and volume in the first pane, RSI and MACD
 * in their own panes under it. History is set once per series, live points go through update()
 * (cheap, no re-render of React). data-last-candle-time, data-panes, data-points and data-tick-size let tests see it draw.
 */
export function CandleChart(props: {
  history: ChartPoint[];
  live: ChartPoint | null;
  tickSize: number | null;
  /** A click in the price pane, at this price (an alert's level). */
  onPriceClick?: (price: number) => void;
}) {
  const { history, live, tickSize, onPriceClick } = props;
  // Read by the chart's click handler, set up once: always the latest callback.
  const priceClick = useRef(onPriceClick);
  useEffect(() => {
    priceClick.current = onPriceClick;
  });
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<Drawn | null>(null);
  // The newest candle drawn; kept beside the chart, not in React state (no re-render per tick).
  const lastTime = useRef<number | null>(null);
  // For tests, on the chart's element: what is drawn, set where it is drawn.
  const mark = (data: Record<string, string>) => Object.assign(box.current!.dataset, data);

  useEffect(() => {
    const api = createChart(box.current!, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: 'transparent' },
        textColor: '#8b949e',
        panes: { separatorColor: '#30363d' },
      },
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
    const lines = LINES.map((l) =>
      api.addSeries(
        LineSeries,
        {
          color: l.color,
          lineWidth: 1,
          priceLineVisible: false,
          // In their own panes, the value and its name sit on the price scale.
          lastValueVisible: !l.overlay,
          title: l.overlay ? '' : l.key,
        },
        l.pane,
      ),
    );
    const bars = BARS.map((b) =>
      api.addSeries(
        HistogramSeries,
        { priceScaleId: b.priceScaleId, priceLineVisible: false, lastValueVisible: false, title: '' },
        b.pane,
      ),
    );
    // Volume in the lowest fifth of the price pane, under the candles.
    api.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    const rsi = lines[LINES.findIndex((l) => l.key === 'RSI 14')]!;
    for (const price of RSI_GUIDES)
      rsi.createPriceLine({
        price,
        color: '#484f58',
        lineStyle: LineStyle.Dashed,
        lineWidth: 1,
        axisLabelVisible: false,
      });
    const [main, ...studies] = api.panes();
    main!.setStretchFactor(3);
    for (const pane of studies) pane.setStretchFactor(1);
    chart.current = { api, candles, lines, bars };
    api.subscribeClick((param) => {
      // Only the price pane's clicks name a price (the study panes have scales of their own).
      if (!param.point || (param.paneIndex ?? 0) !== 0) return;
      const at = candles.coordinateToPrice(param.point.y);
      if (at !== null && at > 0) priceClick.current?.(at);
    });
    return () => {
      chart.current = null;
      api.remove();
    };
  }, []);

  // The price scale and the price pane's labels go to the symbol's tick (default: 2 decimals).
  useEffect(() => {
    const c = chart.current;
    if (!c || !tickSize) return;
    const priceFormat = { type: 'price' as const, precision: tickDecimals(tickSize), minMove: tickSize };
    c.candles.applyOptions({ priceFormat });
    LINES.forEach((l, n) => l.pane === 0 && c.lines[n]!.applyOptions({ priceFormat }));
    mark({ tickSize: String(tickSize) });
  }, [tickSize]);

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
    const counts = [`candles:${history.length}`];
    LINES.forEach((l, n) => {
      const data = history.flatMap((p) => {
        const value = l.pick(p);
        return value == null ? [] : [{ time: time(p.candle.openTime), value }];
      });
      c.lines[n]!.setData(data);
      counts.push(`${l.key}:${data.length}`);
    });
    BARS.forEach((b, n) => {
      const data = history.flatMap((p) => {
        const bar = b.pick(p);
        return bar ? [{ time: time(p.candle.openTime), ...bar }] : [];
      });
      c.bars[n]!.setData(data);
      counts.push(`${b.key}:${data.length}`);
    });
    c.api.timeScale().fitContent();
    lastTime.current = history.at(-1)?.candle.openTime ?? null;
    mark({
      lastCandleTime: String(lastTime.current ?? ''),
      panes: String(c.api.panes().length),
      points: counts.join(','),
    });
  }, [history]);

  useEffect(() => {
    const c = chart.current;
    if (!c || !live) return;
    const k = live.candle;
    const t = time(k.openTime);
    // update() refuses a point older than the last one (a late message): skip it.
    if (lastTime.current !== null && k.openTime < lastTime.current) return;
    try {
      c.candles.update({ time: t, open: k.open, high: k.high, low: k.low, close: k.close });
      LINES.forEach((l, n) => {
        const value = l.pick(live);
        if (value != null) c.lines[n]!.update({ time: t, value });
      });
      BARS.forEach((b, n) => {
        const bar = b.pick(live);
        if (bar) c.bars[n]!.update({ time: t, ...bar });
      });
    } catch {
      return;
    }
    lastTime.current = k.openTime;
    mark({ lastCandleTime: String(k.openTime) });
  }, [live]);

  return (
    <div className="market-chart-wrap">
      <div ref={box} className="market-chart" data-testid="market-chart" />
      <div className="market-legend">
        {LINES.filter((l) => l.overlay).map((l) => (
          <span key={l.key} style={{ color: l.color }}>
            {l.key}
          </span>
        ))}
        <span className="muted">Volume · RSI 14 and MACD (12, 26, 9) below</span>
      </div>
    </div>
  );
}
