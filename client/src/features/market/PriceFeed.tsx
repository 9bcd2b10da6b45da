import { useSubscription } from '@trpc/tanstack-react-query';
import type { Timeframe } from '../../../../shared/market';
import { isResumePoint, RESUME_EXPIRED_CODE } from '../../../../shared/system';
import { useTRPC } from '../../trpc';

export const seriesKey = (s: { symbol: string; timeframe: Timeframe }) => `${s.symbol}|${s.timeframe}`;

/**
 * Follows one series' live price (forming and closed candles) for a position's mark. Live only:
 * without lastEventId nothing is replayed, and the server shares the upstream with the chart.
 */
export function PriceFeed(props: {
  symbol: string;
  timeframe: Timeframe;
  onPrice: (series: string, price: number) => void;
}) {
  const { symbol, timeframe, onPrice } = props;
  const trpc = useTRPC();
  const stream = useSubscription(
    trpc.market.live.subscriptionOptions(
      { symbol, timeframe, lastEventId: null },
      {
        onData: ({ data: e }) => {
          if (!isResumePoint(e)) onPrice(seriesKey(e), e.candle.close);
        },
        // Away longer than candles are kept: only the price matters here, so follow live again.
        onError: (err) => {
          if (err.data?.code === RESUME_EXPIRED_CODE) stream.reset();
        },
      },
    ),
  );
  return null;
}
