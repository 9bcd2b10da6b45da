import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import { MAX_STRATEGIES_PER_USER } from '../../../../shared/market';
import { QueryState } from '../../components/QueryState';
import { useTRPC } from '../../trpc';
import { money, pnlClass, quantity } from './format';
import { PriceFeed, seriesKey } from './PriceFeed';
import { useTickSizes } from './tick-sizes';

/**
 * Open positions, their mark and P&L following each series' live price. No polling: the list
 * changes only by activity events (MarketPage invalidates it on each), the marks come live.
 */
export function Positions() {
  const trpc = useTRPC();
  const q = useQuery(trpc.market.positions.queryOptions());
  // The same query as the strategies card (one request): it names each position's strategy.
  const strategies = useQuery(trpc.market.strategies.list.queryOptions({ limit: MAX_STRATEGIES_PER_USER }));
  const names = new Map(strategies.data?.items.map((s) => [s.id, s.name]));
  const [live, setLive] = useState<Record<string, number>>({});
  const onPrice = useCallback(
    (series: string, p: number) => setLive((prev) => (prev[series] === p ? prev : { ...prev, [series]: p })),
    [],
  );
  const series = [...new Map((q.data ?? []).map((p) => [seriesKey(p), p])).entries()];
  const { priceOf } = useTickSizes((q.data ?? []).map((p) => p.symbol));
  return (
    <div className="card" data-testid="market-positions">
      <h2>Open positions</h2>
      {series.map(([key, p]) => (
        <PriceFeed key={key} symbol={p.symbol} timeframe={p.timeframe} onPrice={onPrice} />
      ))}
      <QueryState
        query={q}
        isEmpty={(d) => d.length === 0}
        empty="No open positions. Enable a strategy to start paper trading."
      >
        {(positions) => (
          <div className="table-scroll">
            <table className="stack-on-phone">
              <thead>
                <tr>
                  <th>Strategy</th>
                  <th>Series</th>
                  <th>Quantity</th>
                  <th>Entry</th>
                  <th>Mark</th>
                  <th>Take profit</th>
                  <th>Stop loss</th>
                  <th>Unrealised P&amp;L</th>
                </tr>
              </thead>
              <tbody>
                {positions.map((p) => {
                  const mark = live[seriesKey(p)] ?? p.markPrice;
                  const pnl = mark == null ? null : (mark - p.entryPrice) * p.quantity;
                  return (
                    <tr key={p.id} data-position-id={p.id}>
                      <td data-label="Strategy">{names.get(p.strategyId) ?? '—'}</td>
                      <td data-label="Series">
                        {p.symbol} {p.timeframe}
                      </td>
                      <td data-label="Quantity">{quantity(p.quantity)}</td>
                      <td data-label="Entry">{priceOf(p.symbol, p.entryPrice)}</td>
                      <td data-label="Mark" data-testid="position-mark">
                        {priceOf(p.symbol, mark)}
                      </td>
                      <td data-label="Take profit">{priceOf(p.symbol, p.takeProfitPrice)}</td>
                      <td data-label="Stop loss">{priceOf(p.symbol, p.stopLossPrice)}</td>
                      <td data-label="Unrealised P&L" data-testid="position-pnl" className={pnlClass(pnl)}>
                        {money(pnl)}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
    </div>
  );
}

export function Trades() {
  const trpc = useTRPC();
  const q = useInfiniteQuery(
    trpc.market.trades.infiniteQueryOptions({ limit: 20 }, { getNextPageParam: (page) => page.nextCursor }),
  );
  const { priceOf } = useTickSizes(q.data?.pages.flatMap((p) => p.items.map((t) => t.symbol)) ?? []);
  return (
    <div className="card" data-testid="market-trades">
      <h2>Completed trades</h2>
      <QueryState query={q} isEmpty={(d) => d.pages.every((p) => p.items.length === 0)} empty="No trades yet.">
        {(data) => (
          <>
            <div className="table-scroll">
              <table className="stack-on-phone">
                <thead>
                  <tr>
                    <th>Strategy</th>
                    <th>Series</th>
                    <th>Entry → exit</th>
                    <th>Why</th>
                    <th>P&amp;L</th>
                  </tr>
                </thead>
                <tbody>
                  {data.pages
                    .flatMap((p) => p.items)
                    .map((t) => (
                      <tr key={t.id}>
                        <td data-label="Strategy">{t.strategyName}</td>
                        <td data-label="Series">
                          {t.symbol} {t.timeframe}
                        </td>
                        <td data-label="Entry → exit">
                          {priceOf(t.symbol, t.entryPrice)} → {priceOf(t.symbol, t.exitPrice)}
                        </td>
                        <td data-label="Why">{t.reason.replace('_', '-')}</td>
                        <td data-label="P&L" className={pnlClass(t.pnl)}>
                          {money(t.pnl)} ({t.pnlPct.toFixed(2)} %)
                        </td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
            {q.hasNextPage && (
              <button disabled={q.isFetchingNextPage} onClick={() => void q.fetchNextPage()}>
                Load more
              </button>
            )}
          </>
        )}
      </QueryState>
    </div>
  );
}
