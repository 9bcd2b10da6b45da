import { z } from 'zod';
import { idCursor, positionCursor } from './cursor';
import { pageSize as limit, recordId as id } from './fields';
import { text } from './text';

export const CHAT_FEATURE = 'chat';
export const MESSAGE_MAX = 4000;
export const INVITATION_MESSAGE_MAX = 500;
/** Pending invitations one person may have out at once. */
export const PENDING_INVITATIONS_MAX = 20;
/** A typing event is relayed at most this often per person and conversation (and shown this long). */
export const TYPING_INTERVAL_MS = 2000;

export const ZChatPerson = z.object({ id: z.string(), name: z.string() });

export const ZInviteInput = z.object({
  toUserId: text({ label: 'User ids', required: 'Choose someone to invite.', max: 64 }),
  message: text({ label: 'Invitation notes', min: 0, max: INVITATION_MESSAGE_MAX, multiline: true }).optional(),
});
export const ZInviteOutput = z.object({ invitationId: z.number() });

/** Who the caller already talks to or awaits an answer from, among people found by a search. */
export const RELATIONS_MAX = 20;
export const ZRelationsInput = z.object({
  userIds: z
    .array(text({ label: 'User ids', required: 'A user id cannot be empty.', max: 64 }), {
      error: 'Give the people as a list of user ids.',
    })
    .max(RELATIONS_MAX, { error: `Ask about at most ${RELATIONS_MAX} people at once.` }),
});
export const ZRelation = z.object({
  userId: z.string(),
  /** The conversation the caller and this person are both in. */
  conversationId: z.number().nullable(),
  /** A pending invitation between them, and who sent it. */
  pendingInvitation: z.object({ id: z.number(), direction: z.enum(['incoming', 'outgoing']) }).nullable(),
});
export type Relation = z.infer<typeof ZRelation>;
export const ZRelationsOutput = z.object({ items: z.array(ZRelation) });

export const ZRespondInput = z.object({
  invitationId: id('invitation'),
  action: z.enum(['accept', 'reject'], { error: 'Choose to accept or reject the invitation.' }),
});
export const ZRespondOutput = z.object({ conversationId: z.number().optional() });

export const ZInvitation = z.object({
  id: z.number(),
  from: ZChatPerson,
  to: ZChatPerson,
  message: z.string().nullable(),
  status: z.enum(['pending', 'accepted', 'rejected']),
  conversationId: z.number().nullable(),
  createdAt: z.coerce.date(),
});
export type Invitation = z.infer<typeof ZInvitation>;

export const ZInvitationsInput = z
  .object({
    direction: z.enum(['incoming', 'outgoing'], { error: 'Choose incoming or outgoing invitations.' }).optional(),
    cursor: idCursor(),
    limit: limit(100, 50),
  })
  .optional();
export const ZInvitationsOutput = z.object({ items: z.array(ZInvitation), nextCursor: z.number().nullable() });

export const ZMessage = z.object({
  id: z.number(),
  conversationId: z.number(),
  senderId: z.string(),
  content: z.string(),
  clientId: z.string(),
  createdAt: z.coerce.date(),
});
export type Message = z.infer<typeof ZMessage>;

export const ZParticipant = ZChatPerson.extend({ lastReadMessageId: z.number().nullable() });
export const ZConversation = z.object({
  id: z.number(),
  participants: z.array(ZParticipant),
  unreadCount: z.number(),
  lastMessage: ZMessage.nullable(),
  lastActivityAt: z.coerce.date(),
});
export type Conversation = z.infer<typeof ZConversation>;

/** Conversations page newest activity first; the cursor is the `nextCursor` of the page before. */
export const ZConversationsInput = z.object({ cursor: positionCursor(), limit: limit(100, 30) }).optional();
export const ZConversationsOutput = z.object({ items: z.array(ZConversation), nextCursor: z.string().nullable() });

export const ZMessagesInput = z.object({
  conversationId: id('conversation'),
  cursor: idCursor(),
  limit: limit(100, 30),
});
export const ZMessagesOutput = z.object({ items: z.array(ZMessage), nextCursor: z.number().nullable() });

export const ZSendInput = z.object({
  conversationId: id('conversation'),
  content: text({
    label: 'Messages',
    required: 'Write a message first: it is empty.',
    max: MESSAGE_MAX,
    multiline: true,
  }),
  clientId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,64}$/, {
      error: 'A message\'s client id is 8 to 64 letters, digits, "-" or "_" (a UUID works).',
    })
    .optional(),
});
export const ZSendOutput = z.object({ message: ZMessage });

export const ZMarkReadInput = z.object({ conversationId: id('conversation'), messageId: id('message') });
export const ZMarkReadOutput = z.object({ conversationId: z.number(), lastReadMessageId: z.number().nullable() });

export const ZTypingInput = z.object({ conversationId: id('conversation') });
export const ZTypingOutput = z.object({ relayed: z.boolean() });

/**
 * Everything `chat.events` delivers; the inbox stores all but `typing`. Answers to invitations
 * carry `message`, a sentence for people: the shell's notification toasts show it on every page.
 */
export const ZChatEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('new_message'), conversationId: z.number(), message: ZMessage }),
  z.object({ type: z.literal('new_invitation'), invitation: ZInvitation, message: z.string() }),
  z.object({
    type: z.literal('invitation_accepted'),
    invitation: ZInvitation,
    conversationId: z.number(),
    message: z.string(),
  }),
  z.object({ type: z.literal('invitation_rejected'), invitation: ZInvitation, message: z.string() }),
  z.object({ type: z.literal('read'), conversationId: z.number(), userId: z.string(), messageId: z.number() }),
  z.object({ type: z.literal('typing'), conversationId: z.number(), userId: z.string(), name: z.string() }),
]);
export type ChatEvent = z.infer<typeof ZChatEvent>;
/** One `chat.events` message as a client receives it: stored events tracked (`id`), typing not. */
export type ChatStreamMessage =
  | { id: string; data: Exclude<ChatEvent, { type: 'typing' }> }
  | { id?: undefined; data: Extract<ChatEvent, { type: 'typing' }> };
export type ChatEventType = ChatEvent['type'];
