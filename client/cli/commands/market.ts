import {
  MAX_STRATEGIES_PER_USER,
  ZLiveInput,
  ZTimeframe,
  type LiveEvent,
  type LiveMessage,
  type Position,
  type Strategy,
  type StrategyRule,
  type Trade,
} from '../../../shared/market';
import { TRPCClientError } from '@trpc/client';
import { RESUME_EXPIRED_CODE } from '../../../shared/system';
import type { Command } from '../command';
import { localTime, table, view } from '../render';
import { followSubscription, httpApi } from '../session';

const fmt = (n: number | null | undefined, digits = 2) => (n == null ? '-' : n.toFixed(digits));

function line(e: LiveEvent): string {
  const c = e.candle;
  const i = e.indicators;
  return [
    localTime(c.openTime, true),
    e.closed ? 'CLOSED ' : 'forming',
    `o ${c.open} h ${c.high} l ${c.low} c ${c.close} v ${fmt(c.volume, 3)}`,
    `rsi ${fmt(i.rsi14)} ema9 ${fmt(i.ema9)} ema21 ${fmt(i.ema21)} macd ${fmt(i.macd?.histogram, 4)}`,
  ].join('  ');
}

const ruleText = (r: StrategyRule) =>
  r.type === 'rsi' ? `RSI ${r.oversold}/${r.overbought}` : r.type === 'ema_cross' ? 'EMA 9/21 cross' : 'MACD cross';
const when = (d: Date) => localTime(d, true);
const signed = (n: number | null, digits = 2) => (n == null ? '-' : `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`);

const strategiesTable = (items: Strategy[]) =>
  table(
    items,
    [
      { header: 'id', value: (s) => s.id, right: true },
      { header: 'name', value: (s) => s.name, max: 30 },
      { header: 'series', value: (s) => `${s.symbol} ${s.timeframe}` },
      { header: 'rule', value: (s) => ruleText(s.rule) },
      { header: 'size', value: (s) => s.positionSize, right: true },
      { header: 'TP %', value: (s) => s.takeProfitPct, right: true },
      { header: 'SL %', value: (s) => s.stopLossPct, right: true },
      { header: 'state', value: (s) => (s.enabled ? 'on' : 'off') },
    ],
    'No strategies yet.',
  );

const positionsTable = (items: Position[]) =>
  table(
    items,
    [
      { header: 'id', value: (p) => p.id, right: true },
      { header: 'strategy', value: (p) => p.strategyId, right: true },
      { header: 'series', value: (p) => `${p.symbol} ${p.timeframe}` },
      { header: 'entry', value: (p) => p.entryPrice, right: true },
      { header: 'mark', value: (p) => p.markPrice, right: true },
      { header: 'qty', value: (p) => p.quantity.toPrecision(6), right: true },
      { header: 'TP', value: (p) => p.takeProfitPrice.toFixed(2), right: true },
      { header: 'SL', value: (p) => p.stopLossPrice.toFixed(2), right: true },
      { header: 'P&L', value: (p) => signed(p.unrealisedPnl), right: true },
      { header: 'opened', value: (p) => when(p.openedAt) },
    ],
    'No open positions.',
  );

const tradesTable = (items: Trade[]) =>
  table(
    items,
    [
      { header: 'id', value: (t) => t.id, right: true },
      { header: 'strategy', value: (t) => t.strategyName, max: 24 },
      { header: 'series', value: (t) => `${t.symbol} ${t.timeframe}` },
      { header: 'entry', value: (t) => t.entryPrice, right: true },
      { header: 'exit', value: (t) => t.exitPrice, right: true },
      { header: 'P&L', value: (t) => signed(t.pnl), right: true },
      { header: 'P&L %', value: (t) => signed(t.pnlPct), right: true },
      { header: 'reason', value: (t) => t.reason.replace('_', ' ') },
      { header: 'closed', value: (t) => when(t.closedAt) },
    ],
    'No trades yet.',
  );

/**
 * `market watch BTCUSDT 1m [--json]`: the last closed candles, then live updates.
 * Reconnects resume from the last closed candle (the WebSocket link sends lastEventId).
 * `market stats`, `market strategies`, `market positions`, `market trades` print tables (--json: raw).
 */
export const marketCommand: Command = {
  name: 'market',
  usage: 'market watch <SYMBOL> <1m|5m|15m|1h|4h|1d> | stats | strategies | positions | trades   (--json)',
  async run({ ctx, args, flags, signal, print }) {
    const [sub, symbolArg, tfArg] = args;
    const http = httpApi(ctx);
    if (sub === 'stats') return http.market.stats.query();
    if (sub === 'strategies') {
      const { items } = await http.market.strategies.list.query({ limit: MAX_STRATEGIES_PER_USER });
      return view(items, strategiesTable(items));
    }
    if (sub === 'positions') {
      const items = await http.market.positions.query();
      return view(items, positionsTable(items));
    }
    if (sub === 'trades') {
      const page = await http.market.trades.query();
      return view(page, tradesTable(page.items) + (page.nextCursor ? '\n(more: newest 50 shown)' : ''));
    }
    if (sub !== 'watch')
      throw new Error('Usage: market watch BTCUSDT 1m (or market stats | strategies | positions | trades)');
    const parsed = ZLiveInput.safeParse({ symbol: symbolArg ?? '', timeframe: tfArg ?? '1m' });
    if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join(' '));
    const { symbol, timeframe } = parsed.data;
    ZTimeframe.parse(timeframe);
    const out = (e: LiveEvent) => (flags.json ? print(e) : console.log(line(e)));
    // A resume point the server no longer keeps (retention) means: start again from fresh history.
    for (;;) {
      const history = await http.market.candles.query({ symbol, timeframe, limit: 5 });
      for (const c of history.candles)
        out({ symbol, timeframe, candle: c.candle, closed: true, indicators: c.indicators });
      const lastEventId = history.candles.at(-1)?.id;
      try {
        return await followSubscription<LiveMessage>(
          ctx,
          signal,
          (api, handlers) =>
            api.market.live.subscribe(
              { symbol, timeframe, lastEventId: lastEventId === undefined ? undefined : String(lastEventId) },
              handlers,
            ),
          {
            // Closed candles arrive tracked ({ id, data }), forming updates untracked ({ data }).
            onData: (d) => void out(d.data),
          },
        );
      } catch (err) {
        if (!(err instanceof TRPCClientError) || err.data?.code !== RESUME_EXPIRED_CODE) throw err;
      }
    }
  },
};
