import { sql } from 'drizzle-orm';
import { bigint, bigserial, index, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { users } from './auth';

export const chatInvitations = pgTable(
  'chat_invitations',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    fromUserId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    toUserId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    message: text(),
    status: text({ enum: ['pending', 'accepted', 'rejected'] })
      .notNull()
      .default('pending'),
    conversationId: bigint({ mode: 'number' }).references(() => chatConversations.id, { onDelete: 'set null' }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    respondedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    index('chat_invitations_to_user_idx').on(t.toUserId, t.status, t.id),
    index('chat_invitations_from_user_idx').on(t.fromUserId, t.status, t.id),
    // One pending invitation per pair, whichever of the two sent it; the database settles races.
    uniqueIndex('chat_invitations_pending_pair_idx')
      .on(sql`least(${t.fromUserId}, ${t.toUserId})`, sql`greatest(${t.fromUserId}, ${t.toUserId})`)
      .where(sql`${t.status} = 'pending'`),
  ],
);

export const chatConversations = pgTable('chat_conversations', {
  id: bigserial({ mode: 'number' }).primaryKey(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  // Orders the conversation list; moved by every message.
  lastActivityAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export const chatParticipants = pgTable(
  'chat_participants',
  {
    conversationId: bigint({ mode: 'number' })
      .notNull()
      .references(() => chatConversations.id, { onDelete: 'cascade' }),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    // The newest message this participant has read; unread = newer messages from others.
    lastReadMessageId: bigint({ mode: 'number' }),
    joinedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.userId] }), index('chat_participants_user_idx').on(t.userId)],
);

export const chatMessages = pgTable(
  'chat_messages',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    conversationId: bigint({ mode: 'number' })
      .notNull()
      .references(() => chatConversations.id, { onDelete: 'cascade' }),
    senderId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    content: text().notNull(),
    // The sender's retry key (made up by the server when the client sends none): the same key twice is one message.
    clientId: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('chat_messages_conversation_id_idx').on(t.conversationId, t.id),
    uniqueIndex('chat_messages_sender_client_id_idx').on(t.senderId, t.clientId),
  ],
);
