import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { QueryState } from '../../components/QueryState';
import { useTRPC } from '../../trpc';

const money = (n: number | null) => (n === null ? '—' : n.toFixed(2));
const pnlClass = (n: number | null) => (n === null ? '' : n >= 0 ? 'pnl-up' : 'pnl-down');

/** Open positions; P&L uses the live price when this page streams that series, else the server's mark. */
export function Positions({ prices }: { prices: Record<string, number> }) {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.market.positions.queryOptions(), refetchInterval: 10_000 });
  return (
    <div className="card" data-testid="market-positions">
      <h2>Open positions</h2>
      <QueryState
        query={q}
        isEmpty={(d) => d.length === 0}
        empty="No open positions. Enable a strategy to start paper trading."
      >
        {(positions) => (
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th>Series</th>
                  <th>Entry</th>
                  <th>Mark</th>
                  <th>Unrealised P&amp;L</th>
                </tr>
              </thead>
              <tbody>
                {positions.map((p) => {
                  const mark = prices[`${p.symbol}|${p.timeframe}`] ?? p.markPrice;
                  const pnl = mark == null ? null : (mark - p.entryPrice) * p.quantity;
                  return (
                    <tr key={p.id}>
                      <td>
                        {p.symbol} {p.timeframe}
                      </td>
                      <td>{p.entryPrice}</td>
                      <td>{mark ?? '—'}</td>
                      <td className={pnlClass(pnl)}>{money(pnl)}</td>
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
  return (
    <div className="card" data-testid="market-trades">
      <h2>Completed trades</h2>
      <QueryState query={q} isEmpty={(d) => d.pages.every((p) => p.items.length === 0)} empty="No trades yet.">
        {(data) => (
          <>
            <div className="table-scroll">
              <table>
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
                        <td>{t.strategyName}</td>
                        <td>
                          {t.symbol} {t.timeframe}
                        </td>
                        <td>
                          {t.entryPrice} → {t.exitPrice}
                        </td>
                        <td>{t.reason.replace('_', '-')}</td>
                        <td className={pnlClass(t.pnl)}>
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
