import {
  ZConversationsInput,
  ZConversationsOutput,
  ZInvitationsInput,
  ZInvitationsOutput,
  ZInviteInput,
  ZInviteOutput,
  ZMarkReadInput,
  ZMarkReadOutput,
  ZMessagesInput,
  ZMessagesOutput,
  ZRelationsInput,
  ZRelationsOutput,
  ZRespondInput,
  ZRespondOutput,
  ZSendInput,
  ZSendOutput,
  ZTypingInput,
  ZTypingOutput,
} from '../../../shared/chat';
import { ZResumeInput } from '../../../shared/system';
import { authedProcedure, rateLimited, router } from '../../trpc';

const inviteProcedure = rateLimited(authedProcedure, 'chat.invite', { points: 10, durationSeconds: 60 });
// The relay itself throttles per conversation; this bounds calls across all of them.
const typingProcedure = rateLimited(authedProcedure, 'chat.typing', { points: 60, durationSeconds: 60 });

export const chatRouter = router({
  invite: inviteProcedure
    .input(ZInviteInput)
    .output(ZInviteOutput)
    .mutation(({ ctx, input }) => ctx.app.chat.invite(ctx.user, input)),
  respond: authedProcedure
    .input(ZRespondInput)
    .output(ZRespondOutput)
    .mutation(({ ctx, input }) => ctx.app.chat.respond(ctx.user, input)),
  invitations: authedProcedure
    .input(ZInvitationsInput)
    .output(ZInvitationsOutput)
    .query(({ ctx, input }) => ctx.app.chat.invitations(ctx.user, input)),
  relations: authedProcedure
    .input(ZRelationsInput)
    .output(ZRelationsOutput)
    .query(({ ctx, input }) => ctx.app.chat.relations(ctx.user, input)),
  conversations: authedProcedure
    .input(ZConversationsInput)
    .output(ZConversationsOutput)
    .query(({ ctx, input }) => ctx.app.chat.conversations(ctx.user, input)),
  messages: authedProcedure
    .input(ZMessagesInput)
    .output(ZMessagesOutput)
    .query(({ ctx, input }) => ctx.app.chat.messages(ctx.user, input)),
  // Limited in the service (SEND_LIMIT): on Postgres the count rides in the send's own transaction.
  send: authedProcedure
    .input(ZSendInput)
    .output(ZSendOutput)
    .mutation(({ ctx, input }) => ctx.app.chat.send(ctx.user, input)),
  markRead: authedProcedure
    .input(ZMarkReadInput)
    .output(ZMarkReadOutput)
    .mutation(({ ctx, input }) => ctx.app.chat.markRead(ctx.user, input)),
  typing: typingProcedure
    .input(ZTypingInput)
    .output(ZTypingOutput)
    .mutation(({ ctx, input }) => ctx.app.chat.typing(ctx.user, input)),
  // Subscriptions cannot take .output(): each event is parsed against ZChatEvent in the service.
  events: authedProcedure
    .input(ZResumeInput)
    .subscription(({ ctx, input, signal }) =>
      ctx.app.chat.events(ctx.user, input?.lastEventId, { sessionSignal: ctx.sessionSignal, requestSignal: signal }),
    ),
});
