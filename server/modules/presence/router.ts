import { ZWatchInput } from '../../../shared/presence';
import { authedProcedure, router } from '../../trpc';

export const presenceRouter = router({
  // Live only (no lastEventId): a reconnect starts again from a fresh `sync`.
  watch: authedProcedure
    .input(ZWatchInput)
    .subscription(({ ctx, input, signal }) =>
      ctx.app.presence.watch(ctx.user, input.room, { sessionSignal: ctx.sessionSignal, requestSignal: signal }),
    ),
});
