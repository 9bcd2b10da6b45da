import {
  ZCardAddInput,
  ZCardOutput,
  ZCardRemoveInput,
  ZCardReorderInput,
  ZCardsOutput,
  ZCardUpdateInput,
  ZCollectionCreateInput,
  ZCollectionGetInput,
  ZCollectionGetOutput,
  ZCollectionIdInput,
  ZCollectionListInput,
  ZCollectionListOutput,
  ZCollectionOutput,
  ZCollectionUpdateInput,
  ZCreateShareCodeInput,
  ZCreateShareCodeOutput,
  ZImportByCodeInput,
  ZImportByCodeOutput,
  ZRemovedOutput,
  ZRevokeShareCodeInput,
  ZShareCodesInput,
  ZShareCodesOutput,
} from '../../../shared/collections';
import { ZResumeInput } from '../../../shared/system';
import { authedProcedure, rateLimited, router } from '../../trpc';

// One budget for every card write: each is a transaction and an event to every tab of the user.
const cardWrite = rateLimited(authedProcedure, 'collections.cards.write', { points: 120, durationSeconds: 60 });

export const collectionsRouter = router({
  list: authedProcedure
    .input(ZCollectionListInput)
    .output(ZCollectionListOutput)
    .query(({ ctx, input }) =>
      ctx.app.collections.list(ctx.user.id, { cursor: input?.cursor, limit: input?.limit ?? 50 }),
    ),
  get: authedProcedure
    .input(ZCollectionGetInput)
    .output(ZCollectionGetOutput)
    .query(({ ctx, input: { id, ...page } }) => ctx.app.collections.get(ctx.user.id, id, page)),
  create: authedProcedure
    .input(ZCollectionCreateInput)
    .output(ZCollectionOutput)
    .mutation(({ ctx, input }) => ctx.app.collections.create(ctx.user.id, input)),
  update: authedProcedure
    .input(ZCollectionUpdateInput)
    .output(ZCollectionOutput)
    .mutation(({ ctx, input: { id, ...patch } }) => ctx.app.collections.update(ctx.user.id, id, patch)),
  remove: authedProcedure
    .input(ZCollectionIdInput)
    .output(ZRemovedOutput)
    .mutation(({ ctx, input }) => ctx.app.collections.remove(ctx.user.id, input.id)),
  addCard: cardWrite
    .input(ZCardAddInput)
    .output(ZCardOutput)
    .mutation(({ ctx, input: { collectionId, ...card } }) =>
      ctx.app.collections.addCard(ctx.user.id, collectionId, card),
    ),
  updateCard: cardWrite
    .input(ZCardUpdateInput)
    .output(ZCardOutput)
    .mutation(({ ctx, input: { collectionId, cardId, ...patch } }) =>
      ctx.app.collections.updateCard(ctx.user.id, collectionId, cardId, patch),
    ),
  removeCard: cardWrite
    .input(ZCardRemoveInput)
    .output(ZRemovedOutput)
    .mutation(({ ctx, input }) => ctx.app.collections.removeCard(ctx.user.id, input.collectionId, input.cardId)),
  reorderCards: cardWrite
    .input(ZCardReorderInput)
    .output(ZCardsOutput)
    .mutation(({ ctx, input }) => ctx.app.collections.reorderCards(ctx.user.id, input.collectionId, input.cardIds)),
  createShareCode: authedProcedure
    .input(ZCreateShareCodeInput)
    .output(ZCreateShareCodeOutput)
    .mutation(({ ctx, input }) => ctx.app.collectionShares.create(ctx.user, input)),
  shareCodes: authedProcedure
    .input(ZShareCodesInput)
    .output(ZShareCodesOutput)
    .query(({ ctx, input }) => ctx.app.collectionShares.list(ctx.user.id, input.collectionId)),
  revokeShareCode: authedProcedure
    .input(ZRevokeShareCodeInput)
    .output(ZCreateShareCodeOutput)
    .mutation(({ ctx, input }) => ctx.app.collectionShares.revoke(ctx.user.id, input.code)),
  importByCode: authedProcedure
    .input(ZImportByCodeInput)
    .output(ZImportByCodeOutput)
    .mutation(({ ctx, input }) => ctx.app.collectionShares.importByCode(ctx.user, input.code)),
  events: authedProcedure.input(ZResumeInput).subscription(({ ctx, input, signal }) =>
    ctx.app.collections.events(ctx.user.id, input?.lastEventId, {
      sessionSignal: ctx.sessionSignal,
      requestSignal: signal,
    }),
  ),
});
