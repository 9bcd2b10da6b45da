import { and, count, desc, eq, gt, inArray, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { AppError } from '../../errors';
import { chatConversations, chatMessages, chatParticipants, users } from '../../db/schema';
import type { Conversation } from '../../../shared/chat';
import { CURSOR_MESSAGE, decodePosition, encodePosition } from '../../../shared/cursor';
import { toMessage } from './messages';

/** `<lastActivityAt ms>:<id>`: the list moves as messages arrive, so the cursor is the position, not an offset. */
// The instant goes in as text: postgres.js cannot bind a Date inside a raw sql fragment.
const parseCursor = (cursor: string) => {
  const p = decodePosition(cursor);
  if (!p) throw new AppError('BAD_REQUEST', CURSOR_MESSAGE);
  return { at: p.at.toISOString(), id: p.id };
};

/** The caller's conversations, most recent activity first, with unread counts and the last message. */
export async function listConversations(db: Db, callerId: string, input: { cursor?: string | null; limit: number }) {
  const after = input.cursor ? parseCursor(input.cursor) : null;
  const rows = await db
    .select({ id: chatConversations.id, lastActivityAt: chatConversations.lastActivityAt })
    .from(chatParticipants)
    .innerJoin(chatConversations, eq(chatConversations.id, chatParticipants.conversationId))
    .where(
      and(
        eq(chatParticipants.userId, callerId),
        after
          ? or(
              sql`date_trunc('milliseconds', ${chatConversations.lastActivityAt}) < ${after.at}::timestamptz`,
              and(
                sql`date_trunc('milliseconds', ${chatConversations.lastActivityAt}) = ${after.at}::timestamptz`,
                sql`${chatConversations.id} < ${after.id}`,
              ),
            )
          : undefined,
      ),
    )
    .orderBy(desc(sql`date_trunc('milliseconds', ${chatConversations.lastActivityAt})`), desc(chatConversations.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > input.limit && last ? encodePosition({ at: last.lastActivityAt, id: last.id }) : null;
  return { items: await describe(db, callerId, page), nextCursor };
}

async function describe(
  db: Db,
  callerId: string,
  page: { id: number; lastActivityAt: Date }[],
): Promise<Conversation[]> {
  if (page.length === 0) return [];
  const ids = page.map((c) => c.id);
  const [people, lastMessages, unread] = await Promise.all([
    db
      .select({
        conversationId: chatParticipants.conversationId,
        id: users.id,
        name: users.name,
        lastReadMessageId: chatParticipants.lastReadMessageId,
      })
      .from(chatParticipants)
      .innerJoin(users, eq(users.id, chatParticipants.userId))
      .where(inArray(chatParticipants.conversationId, ids)),
    db
      .selectDistinctOn([chatMessages.conversationId])
      .from(chatMessages)
      .where(inArray(chatMessages.conversationId, ids))
      .orderBy(chatMessages.conversationId, desc(chatMessages.id)),
    db
      .select({ conversationId: chatMessages.conversationId, n: count() })
      .from(chatMessages)
      .innerJoin(
        chatParticipants,
        and(eq(chatParticipants.conversationId, chatMessages.conversationId), eq(chatParticipants.userId, callerId)),
      )
      .where(
        and(
          inArray(chatMessages.conversationId, ids),
          ne(chatMessages.senderId, callerId),
          gt(chatMessages.id, sql`coalesce(${chatParticipants.lastReadMessageId}, 0)`),
        ),
      )
      .groupBy(chatMessages.conversationId),
  ]);
  const lastBy = new Map(lastMessages.map((m) => [m.conversationId, toMessage(m)]));
  const unreadBy = new Map(unread.map((u) => [u.conversationId, u.n]));
  return page.map((c) => ({
    id: c.id,
    participants: people
      .filter((p) => p.conversationId === c.id)
      .map(({ id, name, lastReadMessageId }) => ({ id, name, lastReadMessageId })),
    unreadCount: unreadBy.get(c.id) ?? 0,
    lastMessage: lastBy.get(c.id) ?? null,
    lastActivityAt: c.lastActivityAt,
  }));
}
