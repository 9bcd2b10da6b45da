import { and, eq } from 'drizzle-orm';
import type { WorkLimiter } from '../../cluster/limits';
import type { Db } from '../../db/client';
import { AppError } from '../../errors';
import { chatParticipants } from '../../db/schema';
import type { Inbox, InboxItem } from '../../realtime/inbox';
import { CHAT_FEATURE, type ChatEvent } from '../../../shared/chat';

export interface ChatDeps {
  db: Db;
  inbox: Inbox;
  /** chat.send's limit per sender (SEND_LIMIT), counted in the send's transaction on Postgres. */
  sendLimiter: WorkLimiter;
}

/** Bursts of a quick typist pass; a script flooding a conversation does not. */
export const SEND_LIMIT = { keyPrefix: 'chat.send', points: 30, duration: 10 } as const;

export const tooManySends = (waitSeconds: number) =>
  new AppError('TOO_MANY_REQUESTS', `Too many requests: try again in ${waitSeconds} s.`);

export type StoredChatEvent = Exclude<ChatEvent, { type: 'typing' }>;

/** One inbox entry per recipient; the event's type doubles as the inbox type so replay can rebuild it. */
export const chatItems = (userIds: string[], event: StoredChatEvent): InboxItem[] =>
  userIds.map((userId) => ({ userId, feature: CHAT_FEATURE, type: event.type, payload: event }));

export const conversationNotFound = (conversationId: number) =>
  new AppError('NOT_FOUND', `No conversation ${conversationId} among yours: open one from your conversation list.`);

/** The caller's participant row; someone else's conversation does not exist for them. */
export async function requireParticipant(db: Db, conversationId: number, userId: string) {
  const [row] = await db
    .select()
    .from(chatParticipants)
    .where(and(eq(chatParticipants.conversationId, conversationId), eq(chatParticipants.userId, userId)))
    .limit(1);
  if (!row) throw conversationNotFound(conversationId);
  return row;
}

export async function participantIds(db: Db, conversationId: number): Promise<string[]> {
  const rows = await db
    .select({ userId: chatParticipants.userId })
    .from(chatParticipants)
    .where(eq(chatParticipants.conversationId, conversationId));
  return rows.map((r) => r.userId);
}
