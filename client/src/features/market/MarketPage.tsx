import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useEffect, useMemo, useState } from 'react';
import { toast } from 'sonner';
import { TIMEFRAMES, ZSymbol } from '../../../../shared/market';
import { isResumePoint, RESUME_EXPIRED_CODE } from '../../../../shared/system';
import { useTRPC } from '../../trpc';
import { CandleChart, type ChartPoint } from './CandleChart';
import { DEFAULT_SYMBOL, useChartSeries } from './chart-series';
import { price } from './format';
import { Positions, Trades } from './Portfolio';
import { Strategies } from './Strategies';
import { Alerts } from './Alerts';
import { useTickSizes } from './tick-sizes';
import { Watching } from '../presence/Presence';
import './market.css';

export default function MarketPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { symbol, timeframe, choose } = useChartSeries();
  const series = `${symbol}|${timeframe}`;
  // The stream's newest candle, kept with its series: after a switch it is another chart's.
  const [latest, setLatest] = useState<{ series: string; point: ChartPoint } | null>(null);
  const live = latest?.series === series ? latest.point : null;
  // The last price clicked on the chart (n: one per click), for a new alert at it.
  const [picked, setPicked] = useState<{ price: number; n: number } | null>(null);

  const tickSize = useTickSizes([symbol]).tickOf(symbol);
  const candles = useQuery(trpc.market.candles.queryOptions({ symbol, timeframe, limit: 300 }));
  const history = useMemo(() => candles.data?.candles ?? [], [candles.data]);

  // The stream resumes after the newest candle the history holds: one that closes between the
  // history answer and the subscription start is replayed, not lost.
  const lastStored = history.at(-1)?.id;
  const stream = useSubscription(
    trpc.market.live.subscriptionOptions(
      { symbol, timeframe, lastEventId: lastStored === undefined ? null : String(lastStored) },
      {
        enabled: candles.isSuccess,
        onData: ({ data: e }) => {
          if (isResumePoint(e)) return;
          setLatest({ series: `${e.symbol}|${e.timeframe}`, point: { candle: e.candle, indicators: e.indicators } });
        },
        // Away longer than the server keeps candles: reload history, then follow live again.
        onError: (err) => {
          if (err.data?.code !== RESUME_EXPIRED_CODE) return;
          void candles.refetch().then(() => stream.reset());
        },
      },
    ),
  );

  useSubscription(
    trpc.market.activity.subscriptionOptions(undefined, {
      // The toast itself comes from the app-wide notification centre (payload.message).
      onData: ({ data }) => {
        if (isResumePoint(data)) return;
        void queryClient.invalidateQueries({ queryKey: trpc.market.positions.queryKey() });
        // pathKey: the trades list is an infinite query, whose key queryKey() does not match.
        void queryClient.invalidateQueries({ queryKey: trpc.market.trades.pathKey() });
        if (data.type === 'alert_fired')
          void queryClient.invalidateQueries({ queryKey: trpc.market.alerts.list.queryKey() });
      },
    }),
  );

  // A symbol the exchange does not list (a typo, an old link): say so and show the default chart.
  const refused = candles.error?.data?.code === 'BAD_REQUEST' && symbol !== DEFAULT_SYMBOL;
  useEffect(() => {
    if (!refused) return;
    toast.error(candles.error!.message);
    choose({ symbol: DEFAULT_SYMBOL });
  }, [refused]); // eslint-disable-line react-hooks/exhaustive-deps -- once per refusal, not per render

  // "live" only while candles really flow: a failed history load or stream is an error, not green.
  const streamState =
    candles.isError || stream.status === 'error' ? 'error' : stream.status === 'pending' ? 'live' : 'connecting';
  const last = live?.candle ?? history.at(-1)?.candle;
  const ind = live?.indicators ?? history.at(-1)?.indicators;
  return (
    <section className="market">
      <div className="market-title">
        <h1>Market</h1>
        <p className="muted">
          Live candles and indicators, and strategies that trade on paper and alerts that fire around the clock, whether
          or not this page is open.
        </p>
      </div>
      <header className="market-head">
        <div className="market-pickers">
          <SymbolPicker key={symbol} symbol={symbol} onPick={(picked) => choose({ symbol: picked })} />
          <div role="tablist" aria-label="Timeframe" className="tabs">
            {TIMEFRAMES.map((tf) => (
              <button
                type="button"
                key={tf}
                role="tab"
                aria-selected={tf === timeframe}
                onClick={() => choose({ timeframe: tf })}
              >
                {tf}
              </button>
            ))}
          </div>
        </div>
        <div className="market-quote">
          <strong>{symbol}</strong> <span data-testid="market-price">{price(last?.close, tickSize)}</span>
          <span className="muted">
            {' '}
            RSI {ind?.rsi14?.toFixed(1) ?? '—'} · MACD {ind?.macd?.histogram.toFixed(2) ?? '—'}
          </span>
          <span
            className={`badge ${streamState === 'live' ? 'good' : streamState === 'error' ? 'bad' : ''}`}
            data-testid="market-stream"
            data-status={streamState}
          >
            {streamState}
          </span>{' '}
          <Watching room={`market:${symbol}:${timeframe}`} />
        </div>
      </header>
      {candles.isPending ? (
        <p className="loading">Loading candles…</p>
      ) : candles.isError ? (
        <p className="error" role="alert">
          {candles.error.message} <button onClick={() => void candles.refetch()}>Retry</button>
        </p>
      ) : history.length === 0 ? (
        <p className="empty-state">No candles for {symbol} yet.</p>
      ) : (
        <div className="market-chart-box">
          <CandleChart
            history={history}
            live={live}
            tickSize={tickSize}
            onPriceClick={(p) => setPicked((prev) => ({ price: p, n: (prev?.n ?? 0) + 1 }))}
          />
        </div>
      )}
      <div className="market-grid">
        <Alerts symbol={symbol} timeframe={timeframe} price={last?.close ?? null} tickSize={tickSize} picked={picked} />
        <Strategies symbol={symbol} timeframe={timeframe} />
        <Positions />
        <Trades />
      </div>
    </section>
  );
}

/** The symbol box: its draft starts again from the chart's symbol whenever that changes (keyed). */
function SymbolPicker({ symbol, onPick }: { symbol: string; onPick: (symbol: string) => void }) {
  const [draft, setDraft] = useState(symbol);
  const pick = (e: React.FormEvent) => {
    e.preventDefault();
    const parsed = ZSymbol.safeParse(draft);
    if (!parsed.success) return void toast.error(parsed.error.issues[0]!.message);
    onPick(parsed.data);
  };
  return (
    <form onSubmit={pick} className="symbol-picker">
      <input aria-label="Symbol" value={draft} onChange={(e) => setDraft(e.target.value.toUpperCase())} />
      <button type="submit">Show</button>
    </form>
  );
}
