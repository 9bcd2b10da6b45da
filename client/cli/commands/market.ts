import { MAX_STRATEGIES_PER_USER, ZLiveInput, ZTimeframe, type LiveEvent, type LiveMessage } from '../../../shared/market';
import { TRPCClientError } from '@trpc/client';
import { RESUME_EXPIRED_CODE } from '../../../shared/system';
import type { Command } from '../command';
import { followSubscription, httpApi } from '../session';

const fmt = (n: number | null | undefined, digits = 2) => (n == null ? '-' : n.toFixed(digits));

function line(e: LiveEvent): string {
  const c = e.candle;
  const i = e.indicators;
  return [
    new Date(c.openTime).toISOString(),
    e.closed ? 'CLOSED ' : 'forming',
    `o ${c.open} h ${c.high} l ${c.low} c ${c.close} v ${fmt(c.volume, 3)}`,
    `rsi ${fmt(i.rsi14)} ema9 ${fmt(i.ema9)} ema21 ${fmt(i.ema21)} macd ${fmt(i.macd?.histogram, 4)}`,
  ].join('  ');
}

/**
 * `market watch BTCUSDT 1m [--json]`: the last closed candles, then live updates.
 * Reconnects resume from the last closed candle (the WebSocket link sends lastEventId).
 * `market stats`, `market strategies`, `market positions`, `market trades` print JSON.
 */
export const marketCommand: Command = {
  name: 'market',
  usage: 'market watch <SYMBOL> <1m|5m|15m|1h|4h|1d> [--json] | market stats | strategies | positions | trades',
  async run({ ctx, args, flags, signal, print }) {
    const [sub, symbolArg, tfArg] = args;
    const http = httpApi(ctx);
    if (sub === 'stats') return http.market.stats.query();
    if (sub === 'strategies') return (await http.market.strategies.list.query({ limit: MAX_STRATEGIES_PER_USER })).items;
    if (sub === 'positions') return http.market.positions.query();
    if (sub === 'trades') return http.market.trades.query();
    if (sub !== 'watch') throw new Error('Usage: market watch BTCUSDT 1m (or market stats | strategies | positions | trades)');
    const parsed = ZLiveInput.safeParse({ symbol: symbolArg ?? '', timeframe: tfArg ?? '1m' });
    if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join(' '));
    const { symbol, timeframe } = parsed.data;
    ZTimeframe.parse(timeframe);
    const out = (e: LiveEvent) => (flags.json ? print(e) : console.log(line(e)));
    // A resume point the server no longer keeps (retention) means: start again from fresh history.
    for (;;) {
      const history = await http.market.candles.query({ symbol, timeframe, limit: 5 });
      for (const c of history.candles) out({ symbol, timeframe, candle: c.candle, closed: true, indicators: c.indicators });
      const lastEventId = history.candles.at(-1)?.id;
      try {
        return await followSubscription<LiveMessage>(ctx, signal, (api, handlers) => api.market.live.subscribe({ symbol, timeframe, lastEventId: lastEventId === undefined ? undefined : String(lastEventId) }, handlers), {
          // Closed candles arrive tracked ({ id, data }), forming updates untracked ({ data }).
          onData: (d) => void out(d.data),
        });
      } catch (err) {
        if (!(err instanceof TRPCClientError) || err.data?.code !== RESUME_EXPIRED_CODE) throw err;
      }
    }
  },
};
