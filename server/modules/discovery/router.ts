import { ZResumeInput } from '../../../shared/system';
import {
  ZAutoStartInput,
  ZRecentInput,
  ZRecentOutput,
  ZScanTokensInput,
  ZScanTokensOutput,
  ZStatsOutput,
  ZStatusOutput,
  ZTriggerInput,
  ZTriggerOutput,
} from '../../../shared/discovery';
import { adminProcedure, authedProcedure, rateLimited, router } from '../../trpc';

// Joining a running scan is free for upstreams, but each call still costs us a query.
const triggerProcedure = rateLimited(authedProcedure, 'discovery.trigger', { points: 5, durationSeconds: 60 });

export const discoveryRouter = router({
  trigger: triggerProcedure
    .input(ZTriggerInput)
    .output(ZTriggerOutput)
    .mutation(({ ctx, input }) => ctx.app.discovery.trigger(ctx.user.id, input)),

  status: authedProcedure.output(ZStatusOutput).query(({ ctx }) => ctx.app.discovery.status()),

  stats: authedProcedure.output(ZStatsOutput).query(({ ctx }) => ctx.app.discovery.stats()),

  recent: authedProcedure
    .input(ZRecentInput)
    .output(ZRecentOutput)
    .query(({ ctx, input }) => ctx.app.discovery.recent(input.limit, input.chain)),

  scanTokens: authedProcedure
    .input(ZScanTokensInput)
    .output(ZScanTokensOutput)
    .query(({ ctx, input }) => ctx.app.discovery.scanTokens(input.scanId)),

  autoStart: adminProcedure
    .input(ZAutoStartInput)
    .output(ZStatusOutput)
    .mutation(({ ctx, input }) => ctx.app.discovery.autoStart(ctx.user.id, input)),

  autoStop: adminProcedure.output(ZStatusOutput).mutation(({ ctx }) => ctx.app.discovery.autoStop(ctx.user.id)),

  events: authedProcedure
    .input(ZResumeInput)
    .subscription(({ ctx, input, signal }) =>
      ctx.app.discovery.events(input?.lastEventId, { sessionSignal: ctx.sessionSignal, requestSignal: signal }),
    ),
});
