import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useMemo, useState } from 'react';
import { toast } from 'sonner';
import { TIMEFRAMES, ZSymbol, type Timeframe } from '../../../../shared/market';
import { isResumePoint, RESUME_EXPIRED_CODE } from '../../../../shared/system';
import { useTRPC } from '../../trpc';
import { CandleChart, type ChartPoint } from './CandleChart';
import { Positions, Trades } from './Portfolio';
import { Strategies } from './Strategies';
import './market.css';

export default function MarketPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [symbol, setSymbol] = useState('BTCUSDT');
  const [draft, setDraft] = useState('BTCUSDT');
  const [timeframe, setTimeframe] = useState<Timeframe>('1m');
  // The stream's newest candle; a switch of symbol or timeframe drops it (it is another chart's).
  const [live, setLive] = useState<ChartPoint | null>(null);
  const [prices, setPrices] = useState<Record<string, number>>({});

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
          setLive({ candle: e.candle, indicators: e.indicators });
          setPrices((p) => ({ ...p, [`${e.symbol}|${e.timeframe}`]: e.candle.close }));
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
        void queryClient.invalidateQueries({ queryKey: trpc.market.trades.queryKey() });
      },
    }),
  );

  const pick = (e: React.FormEvent) => {
    e.preventDefault();
    const parsed = ZSymbol.safeParse(draft);
    if (!parsed.success) return void toast.error(parsed.error.issues[0]!.message);
    setSymbol(parsed.data);
    setLive(null);
  };

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
          Live candles and indicators, and strategies that trade on paper around the clock, whether or not this page is
          open.
        </p>
      </div>
      <header className="market-head">
        <form onSubmit={pick} className="market-pickers">
          <input aria-label="Symbol" value={draft} onChange={(e) => setDraft(e.target.value.toUpperCase())} />
          <button type="submit">Show</button>
          <div role="tablist" aria-label="Timeframe" className="tabs">
            {TIMEFRAMES.map((tf) => (
              <button
                type="button"
                key={tf}
                role="tab"
                aria-selected={tf === timeframe}
                onClick={() => (setTimeframe(tf), setLive(null))}
              >
                {tf}
              </button>
            ))}
          </div>
        </form>
        <div className="market-quote">
          <strong>{symbol}</strong> {last ? last.close : '—'}
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
          </span>
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
          <CandleChart history={history} live={live} />
        </div>
      )}
      <div className="market-grid">
        <Strategies symbol={symbol} timeframe={timeframe} />
        <Positions prices={prices} />
        <Trades />
      </div>
    </section>
  );
}
