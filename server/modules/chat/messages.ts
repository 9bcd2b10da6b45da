import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { AppError } from '../../errors';
import { chatMessages, chatParticipants } from '../../db/schema';
import type { Message } from '../../../shared/chat';
import { chatItems, participantIds, requireParticipant, type ChatDeps } from './deps';

export const toMessage = (r: typeof chatMessages.$inferSelect): Message => ({
  id: r.id,
  conversationId: r.conversationId,
  senderId: r.senderId,
  content: r.content,
  clientId: r.clientId,
  createdAt: r.createdAt,
});

/** Newest first; `nextCursor` pages back through older messages. */
export async function listMessages(
  db: Db,
  callerId: string,
  input: { conversationId: number; cursor?: number | null; limit: number },
) {
  await requireParticipant(db, input.conversationId, callerId);
  const rows = await db
    .select()
    .from(chatMessages)
    .where(
      and(
        eq(chatMessages.conversationId, input.conversationId),
        input.cursor ? lt(chatMessages.id, input.cursor) : undefined,
      ),
    )
    .orderBy(desc(chatMessages.id))
    .limit(input.limit + 1);
  const items = rows.slice(0, input.limit).map(toMessage);
  return { items, nextCursor: rows.length > input.limit ? items.at(-1)!.id : null };
}

/** Moves the caller's read marker forward (never back) and tells every participant's tabs. */
export async function markRead(deps: ChatDeps, callerId: string, input: { conversationId: number; messageId: number }) {
  const { db, inbox } = deps;
  await requireParticipant(db, input.conversationId, callerId);
  const [message] = await db
    .select({ id: chatMessages.id })
    .from(chatMessages)
    .where(and(eq(chatMessages.id, input.messageId), eq(chatMessages.conversationId, input.conversationId)))
    .limit(1);
  if (!message)
    throw new AppError('NOT_FOUND', `No message ${input.messageId} in conversation ${input.conversationId}.`);
  const { result: lastReadMessageId } = await inbox.withEvents(async (tx, emit) => {
    const [moved] = await tx
      .update(chatParticipants)
      .set({ lastReadMessageId: input.messageId })
      .where(
        and(
          eq(chatParticipants.conversationId, input.conversationId),
          eq(chatParticipants.userId, callerId),
          sql`coalesce(${chatParticipants.lastReadMessageId}, 0) < ${input.messageId}`,
        ),
      )
      .returning({ lastReadMessageId: chatParticipants.lastReadMessageId });
    if (!moved) return (await requireParticipant(tx, input.conversationId, callerId)).lastReadMessageId;
    const recipients = await participantIds(tx, input.conversationId);
    const event = {
      type: 'read' as const,
      conversationId: input.conversationId,
      userId: callerId,
      messageId: input.messageId,
    };
    chatItems(recipients, event).forEach(emit);
    return moved.lastReadMessageId;
  });
  return { conversationId: input.conversationId, lastReadMessageId };
}
