import {
  ZCandlesInput,
  ZCandlesOutput,
  ZLiveInput,
  ZMarketStatsOutput,
  MAX_STRATEGIES_PER_USER,
  ZPosition,
  ZStrategiesListInput,
  ZStrategiesListOutput,
  ZStrategy,
  ZStrategyCreateInput,
  ZStrategyIdInput,
  ZStrategySetEnabledInput,
  ZStrategyUpdateInput,
  ZSymbolInfo,
  ZSymbolInfoInput,
  ZTradesInput,
  ZTradesOutput,
} from '../../../shared/market';
import { ZResumeInput } from '../../../shared/system';
import {
  MAX_ALERTS_PER_USER,
  ZAlert,
  ZAlertCreateInput,
  ZAlertIdInput,
  ZAlertsListInput,
  ZAlertsListOutput,
} from '../../../shared/market-alerts';
import { MARKET_FEATURE } from '../../../shared/market';
import { z } from 'zod';
import { authedProcedure, rateLimited, router } from '../../trpc';

// candles may call the exchange's REST API (weight 2 per page), so it is metered per user.
const candlesProcedure = rateLimited(authedProcedure, 'market.candles', { points: 60, durationSeconds: 60 });
// Every strategy write re-reads the watched series and may open one: one budget for all four.
const strategyWrite = rateLimited(authedProcedure, 'market.strategies.write', { points: 120, durationSeconds: 60 });

// Alert writes re-read the alert on this instance and may open a series: metered per user.
const alertWrite = rateLimited(authedProcedure, 'market.alerts.write', { points: 60, durationSeconds: 60 });

const alertsRouter = router({
  list: authedProcedure
    .input(ZAlertsListInput)
    .output(ZAlertsListOutput)
    .query(({ ctx, input }) =>
      ctx.app.market.listAlerts(ctx.user.id, input?.cursor ?? null, input?.limit ?? MAX_ALERTS_PER_USER),
    ),
  create: alertWrite
    .input(ZAlertCreateInput)
    .output(ZAlert)
    .mutation(({ ctx, input }) => ctx.app.market.createAlert(ctx.user.id, input)),
  rearm: alertWrite
    .input(ZAlertIdInput)
    .output(ZAlert)
    .mutation(({ ctx, input }) => ctx.app.market.rearmAlert(ctx.user.id, input.id)),
  remove: alertWrite
    .input(ZAlertIdInput)
    .output(z.object({ id: z.number() }))
    .mutation(({ ctx, input }) => ctx.app.market.removeAlert(ctx.user.id, input.id)),
});

const strategiesRouter = router({
  list: authedProcedure
    .input(ZStrategiesListInput)
    .output(ZStrategiesListOutput)
    .query(({ ctx, input }) =>
      ctx.app.market.strategies.list(ctx.user.id, input?.cursor ?? null, input?.limit ?? MAX_STRATEGIES_PER_USER),
    ),
  create: strategyWrite
    .input(ZStrategyCreateInput)
    .output(ZStrategy)
    .mutation(({ ctx, input }) => ctx.app.market.strategies.create(ctx.user.id, input)),
  update: strategyWrite
    .input(ZStrategyUpdateInput)
    .output(ZStrategy)
    .mutation(({ ctx, input: { id, ...patch } }) => ctx.app.market.strategies.update(ctx.user.id, id, patch)),
  setEnabled: strategyWrite
    .input(ZStrategySetEnabledInput)
    .output(ZStrategy)
    .mutation(({ ctx, input }) => ctx.app.market.strategies.setEnabled(ctx.user.id, input.id, input.enabled)),
  remove: strategyWrite
    .input(ZStrategyIdInput)
    .output(z.object({ id: z.number() }))
    .mutation(({ ctx, input }) => ctx.app.market.strategies.remove(ctx.user.id, input.id)),
});

export const marketRouter = router({
  candles: candlesProcedure
    .input(ZCandlesInput)
    .output(ZCandlesOutput)
    .query(({ ctx, input }) => ctx.app.market.candles(ctx.user.id, input.symbol, input.timeframe, input.limit)),
  symbol: authedProcedure
    .input(ZSymbolInfoInput)
    .output(ZSymbolInfo)
    .query(({ ctx, input }) => ctx.app.market.symbolInfo(input.symbol)),
  live: authedProcedure.input(ZLiveInput).subscription(({ ctx, input, signal }) =>
    ctx.app.market.live({ sessionId: ctx.session.id, userId: ctx.user.id }, input, {
      sessionSignal: ctx.sessionSignal,
      requestSignal: signal,
    }),
  ),
  stats: authedProcedure.output(ZMarketStatsOutput).query(({ ctx }) => ctx.app.market.stats()),
  strategies: strategiesRouter,
  alerts: alertsRouter,
  positions: authedProcedure.output(z.array(ZPosition)).query(({ ctx }) => ctx.app.market.positions(ctx.user.id)),
  trades: authedProcedure
    .input(ZTradesInput)
    .output(ZTradesOutput)
    .query(({ ctx, input }) => ctx.app.market.trades(ctx.user.id, input?.cursor ?? null, input?.limit ?? 50)),
  activity: authedProcedure
    .input(ZResumeInput)
    .subscription(({ ctx, input, signal }) =>
      ctx.app.inbox.stream(
        { userId: ctx.user.id, lastEventId: input?.lastEventId, feature: MARKET_FEATURE },
        { sessionSignal: ctx.sessionSignal, requestSignal: signal },
      ),
    ),
});
