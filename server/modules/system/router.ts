import { ZHealthOutput, ZResumeInput, ZStatsOutput } from '../../../shared/system';
import { adminProcedure, authedProcedure, publicProcedure, router } from '../../trpc';
import { checkHealth, collectStats } from './service';

export const systemRouter = router({
  health: publicProcedure.output(ZHealthOutput).query(({ ctx }) => checkHealth(ctx.app)),

  stats: adminProcedure.output(ZStatsOutput).query(({ ctx }) => collectStats(ctx.app)),

  notifications: authedProcedure
    .input(ZResumeInput)
    .subscription(({ ctx, input, signal }) =>
      ctx.app.inbox.stream(
        { userId: ctx.user.id, lastEventId: input?.lastEventId },
        { sessionSignal: ctx.sessionSignal, requestSignal: signal },
      ),
    ),
});
