import { and, count, desc, eq, inArray, lt, or } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { AppError } from '../../errors';
import { chatConversations, chatInvitations, chatParticipants, users } from '../../db/schema';
import { PENDING_INVITATIONS_MAX, type Invitation } from '../../../shared/chat';
import { chatItems, type ChatDeps } from './deps';
import { sharedConversations } from './relations';

type InvitationRow = typeof chatInvitations.$inferSelect;

const names = async (db: Db, ids: string[]) => {
  const rows = await db.select({ id: users.id, name: users.name }).from(users).where(inArray(users.id, ids));
  return new Map(rows.map((r) => [r.id, r.name]));
};

const toInvitation = (r: InvitationRow, name: Map<string, string>): Invitation => ({
  id: r.id,
  from: { id: r.fromUserId, name: name.get(r.fromUserId) ?? 'someone' },
  to: { id: r.toUserId, name: name.get(r.toUserId) ?? 'someone' },
  message: r.message,
  status: r.status,
  conversationId: r.conversationId,
  createdAt: r.createdAt,
});

export async function invite(
  deps: ChatDeps,
  caller: { id: string; name: string },
  input: { toUserId: string; message?: string },
) {
  if (input.toUserId === caller.id)
    throw new AppError('BAD_REQUEST', 'You cannot invite yourself: search for someone else.');
  const { db, inbox } = deps;
  const [to] = await db
    .select({ id: users.id, name: users.name })
    .from(users)
    .where(eq(users.id, input.toUserId))
    .limit(1);
  if (!to) throw new AppError('NOT_FOUND', 'No such person: find people with the search first.');
  const {
    result: { invitation },
  } = await inbox.withEvents(async (tx, emit) => {
    const [pending] = await tx
      .select({ n: count() })
      .from(chatInvitations)
      .where(and(eq(chatInvitations.fromUserId, caller.id), eq(chatInvitations.status, 'pending')));
    if ((pending?.n ?? 0) >= PENDING_INVITATIONS_MAX) {
      throw new AppError(
        'BAD_REQUEST',
        `You have ${PENDING_INVITATIONS_MAX} invitations waiting for an answer: wait for some answers before sending more.`,
      );
    }
    // Two people keep one conversation: a second invitation would only lead back to it.
    if ((await sharedConversations(tx, caller.id, [to.id])).has(to.id))
      throw new AppError(
        'CONFLICT',
        `You already have a conversation with ${to.name}: open it from your conversation list.`,
      );
    // The partial unique index on the pair refuses a second pending invitation, in either direction.
    const [row] = await tx
      .insert(chatInvitations)
      .values({ fromUserId: caller.id, toUserId: to.id, message: input.message || null })
      .onConflictDoNothing()
      .returning();
    if (!row)
      throw new AppError(
        'CONFLICT',
        `There is already an invitation waiting between you and ${to.name}: answer or wait for it.`,
      );
    const invitation = toInvitation(
      row,
      new Map([
        [caller.id, caller.name],
        [to.id, to.name],
      ]),
    );
    chatItems([to.id], { type: 'new_invitation', invitation, message: `${caller.name} invited you to chat.` }).forEach(
      emit,
    );
    return { invitation };
  });
  return { invitationId: invitation.id };
}

export async function respond(
  deps: ChatDeps,
  callerId: string,
  input: { invitationId: number; action: 'accept' | 'reject' },
) {
  const { inbox } = deps;
  const {
    result: { conversationId },
  } = await inbox.withEvents(async (tx, emit) => {
    const [found] = await tx
      .select()
      .from(chatInvitations)
      .where(
        and(
          eq(chatInvitations.id, input.invitationId),
          or(eq(chatInvitations.toUserId, callerId), eq(chatInvitations.fromUserId, callerId)),
        ),
      )
      .limit(1);
    if (!found)
      throw new AppError('NOT_FOUND', `No invitation ${input.invitationId} for you: it may have been withdrawn.`);
    if (found.toUserId !== callerId)
      throw new AppError('FORBIDDEN', 'Only the person you invited can answer this invitation.');
    // The status guard makes a double answer (two tabs clicking at once) fail instead of acting twice.
    const [answered] = await tx
      .update(chatInvitations)
      .set({ status: input.action === 'accept' ? 'accepted' : 'rejected', respondedAt: new Date() })
      .where(
        and(
          eq(chatInvitations.id, found.id),
          eq(chatInvitations.toUserId, callerId),
          eq(chatInvitations.status, 'pending'),
        ),
      )
      .returning();
    if (!answered) throw new AppError('CONFLICT', 'This invitation has already been answered.');

    const name = await names(tx, [answered.fromUserId, answered.toUserId]);
    const me = name.get(callerId) ?? 'someone';
    if (input.action === 'reject') {
      const invitation = toInvitation(answered, name);
      chatItems([answered.fromUserId], {
        type: 'invitation_rejected',
        invitation,
        message: `${me} declined your chat invitation.`,
      }).forEach(emit);
      return { conversationId: undefined };
    }
    const conversationId = await conversationBetween(tx, answered.fromUserId, callerId);
    const [withConversation] = await tx
      .update(chatInvitations)
      .set({ conversationId })
      .where(eq(chatInvitations.id, answered.id))
      .returning();
    const invitation = toInvitation(withConversation!, name);
    chatItems([answered.fromUserId], {
      type: 'invitation_accepted',
      invitation,
      conversationId,
      message: `${me} accepted your invitation: say hello.`,
    }).forEach(emit);
    return { conversationId };
  });
  return conversationId === undefined ? {} : { conversationId };
}

/** Two people who already talk keep their one conversation; otherwise it starts now. */
async function conversationBetween(tx: Db, a: string, b: string): Promise<number> {
  const existing = (await sharedConversations(tx, a, [b])).get(b);
  if (existing !== undefined) return existing;
  const [conversation] = await tx.insert(chatConversations).values({}).returning({ id: chatConversations.id });
  await tx.insert(chatParticipants).values([
    { conversationId: conversation!.id, userId: a },
    { conversationId: conversation!.id, userId: b },
  ]);
  return conversation!.id;
}

/** Pending invitations to or from the caller, newest first. */
export async function listInvitations(
  db: Db,
  callerId: string,
  input: { direction?: 'incoming' | 'outgoing'; cursor?: number | null; limit: number },
) {
  const mine =
    input.direction === 'incoming'
      ? eq(chatInvitations.toUserId, callerId)
      : input.direction === 'outgoing'
        ? eq(chatInvitations.fromUserId, callerId)
        : or(eq(chatInvitations.toUserId, callerId), eq(chatInvitations.fromUserId, callerId));
  const rows = await db
    .select()
    .from(chatInvitations)
    .where(
      and(mine, eq(chatInvitations.status, 'pending'), input.cursor ? lt(chatInvitations.id, input.cursor) : undefined),
    )
    .orderBy(desc(chatInvitations.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const name = page.length
    ? await names(db, [...new Set(page.flatMap((r) => [r.fromUserId, r.toUserId]))])
    : new Map<string, string>();
  return {
    items: page.map((r) => toInvitation(r, name)),
    nextCursor: rows.length > input.limit ? page.at(-1)!.id : null,
  };
}
