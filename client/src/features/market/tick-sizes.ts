import { useQueries } from '@tanstack/react-query';
import { useTRPC } from '../../trpc';
import { price } from './format';

/**
 * Each symbol's tick size (one cached query per symbol: it changes rarely, so it is never
 * refetched), and a formatter showing a symbol's prices to it. Until a tick size is known,
 * prices show with eight significant digits.
 */
export function useTickSizes(symbols: string[]) {
  const trpc = useTRPC();
  const unique = [...new Set(symbols)];
  const answers = useQueries({
    queries: unique.map((symbol) => ({ ...trpc.market.symbol.queryOptions({ symbol }), staleTime: Infinity })),
  });
  const ticks = new Map(unique.map((s, i) => [s, answers[i]?.data?.tickSize ?? null]));
  return {
    tickOf: (symbol: string) => ticks.get(symbol) ?? null,
    priceOf: (symbol: string, n: number | null | undefined) => price(n, ticks.get(symbol)),
  };
}
