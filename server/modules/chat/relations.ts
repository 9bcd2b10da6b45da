import { aliasedTable, and, eq, inArray, or } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { chatInvitations, chatParticipants } from '../../db/schema';
import type { Relation } from '../../../shared/chat';

/** The conversation the caller shares with each of `others` (two people keep one conversation). */
export async function sharedConversations(db: Db, callerId: string, others: string[]): Promise<Map<string, number>> {
  if (others.length === 0) return new Map();
  const other = aliasedTable(chatParticipants, 'other');
  const rows = await db
    .select({ userId: other.userId, conversationId: chatParticipants.conversationId })
    .from(chatParticipants)
    .innerJoin(other, and(eq(other.conversationId, chatParticipants.conversationId), inArray(other.userId, others)))
    .where(eq(chatParticipants.userId, callerId));
  return new Map(rows.map((r) => [r.userId, r.conversationId]));
}

/**
 * For people found by a search: the conversation the caller already has with each, or the
 * invitation still waiting between them, so the page offers "Open" or "Pending", not "Invite".
 * Only the caller's own conversations and invitations are looked at.
 */
export async function listRelations(db: Db, callerId: string, userIds: string[]): Promise<{ items: Relation[] }> {
  const others = [...new Set(userIds)].filter((id) => id !== callerId);
  if (others.length === 0) return { items: [] };
  const [conversations, pending] = await Promise.all([
    sharedConversations(db, callerId, others),
    db
      .select({ id: chatInvitations.id, fromUserId: chatInvitations.fromUserId, toUserId: chatInvitations.toUserId })
      .from(chatInvitations)
      .where(
        and(
          eq(chatInvitations.status, 'pending'),
          or(
            and(eq(chatInvitations.fromUserId, callerId), inArray(chatInvitations.toUserId, others)),
            and(eq(chatInvitations.toUserId, callerId), inArray(chatInvitations.fromUserId, others)),
          ),
        ),
      ),
  ]);
  return {
    items: others.map((userId) => {
      const invitation = pending.find((i) => i.fromUserId === userId || i.toUserId === userId);
      return {
        userId,
        conversationId: conversations.get(userId) ?? null,
        pendingInvitation: invitation
          ? { id: invitation.id, direction: invitation.fromUserId === callerId ? 'outgoing' : 'incoming' }
          : null,
      };
    }),
  };
}
