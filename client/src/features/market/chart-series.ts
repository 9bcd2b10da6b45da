import { useEffect } from 'react';
import { useSearchParams } from 'wouter';
import { ZSymbol, ZTimeframe, type Timeframe } from '../../../../shared/market';

export const DEFAULT_SYMBOL = 'BTCUSDT';
export const DEFAULT_TIMEFRAME: Timeframe = '1m';

/**
 * The chart's symbol and timeframe live in the address (`/market?s=ETHUSDT&tf=5m`), so a reload
 * or a shared link opens the same chart. As on TradingView, a switch replaces the address rather
 * than adding a history entry per click. A value the page cannot show opens the default instead,
 * and the address is corrected to say what is shown.
 */
export function useChartSeries() {
  const [params, setParams] = useSearchParams();
  const s = ZSymbol.safeParse(params.get('s') ?? '');
  const tf = ZTimeframe.safeParse(params.get('tf'));
  const symbol = s.success ? s.data : DEFAULT_SYMBOL;
  const timeframe = tf.success ? tf.data : DEFAULT_TIMEFRAME;

  const choose = (next: { symbol?: string; timeframe?: Timeframe }) =>
    setParams(
      (prev) => {
        const p = new URLSearchParams(prev);
        p.set('s', next.symbol ?? symbol);
        p.set('tf', next.timeframe ?? timeframe);
        return p;
      },
      { replace: true },
    );

  // An address naming the series at all must name the one shown (lower case or invalid values).
  // Checked after every render; it writes only while the address and the chart disagree.
  const stale = (params.has('s') || params.has('tf')) && (params.get('s') !== symbol || params.get('tf') !== timeframe);
  useEffect(() => {
    if (stale) choose({});
  });

  return { symbol, timeframe, choose };
}
