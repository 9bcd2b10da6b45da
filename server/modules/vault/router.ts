import { ZResumeInput } from '../../../shared/system';
import {
  ZAttemptsInput,
  ZAttemptsOutput,
  ZControlSchedulerInput,
  ZRefreshNowOutput,
  ZSaveSessionInput,
  ZSchedulerOutput,
  ZSessionIdInput,
  ZSessionsOutput,
  ZVaultSession,
} from '../../../shared/vault';
import { adminProcedure, router } from '../../trpc';

/** Admins only, every procedure: the vault holds the keys to other people's accounts. */
export const vaultRouter = router({
  sessions: adminProcedure.output(ZSessionsOutput).query(({ ctx }) => ctx.app.vault.sessions()),

  saveSession: adminProcedure
    .input(ZSaveSessionInput)
    .output(ZVaultSession)
    .mutation(({ ctx, input }) => ctx.app.vault.saveSession(input)),

  refreshNow: adminProcedure
    .input(ZSessionIdInput)
    .output(ZRefreshNowOutput)
    .mutation(({ ctx, input }) => ctx.app.vault.refreshNow(input.sessionId)),

  attempts: adminProcedure
    .input(ZAttemptsInput)
    .output(ZAttemptsOutput)
    .query(({ ctx, input }) => ctx.app.vault.attempts(input.sessionId, input.limit)),

  scheduler: adminProcedure.output(ZSchedulerOutput).query(({ ctx }) => ctx.app.vault.schedulerState()),

  controlScheduler: adminProcedure
    .input(ZControlSchedulerInput)
    .output(ZSchedulerOutput)
    .mutation(({ ctx, input }) => ctx.app.vault.controlScheduler(input.action, input.intervalMinutes, ctx.user.id)),

  events: adminProcedure
    .input(ZResumeInput)
    .subscription(({ ctx, input, signal }) =>
      ctx.app.vault.events(input?.lastEventId, { sessionSignal: ctx.sessionSignal, requestSignal: signal }),
    ),
});
