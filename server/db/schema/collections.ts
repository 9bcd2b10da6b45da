import { bigint, bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { users } from './auth';

/** A user's collection of cards; an imported copy records the code and collection it came from. */
export const collections = pgTable(
  'collections',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    title: text().notNull(),
    description: text().notNull().default(''),
    cardCount: integer().notNull().default(0),
    // No foreign keys: the source may be deleted later, the copy and its provenance stay.
    sourceCode: text(),
    sourceCollectionId: bigint({ mode: 'number' }),
    sourceOwnerName: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('collections_user_id_id_idx').on(t.userId, t.id),
    // One copy per user and code, even when two imports race: the second insert finds this.
    uniqueIndex('collections_user_source_code_idx').on(t.userId, t.sourceCode),
  ],
);

export const collectionCards = pgTable(
  'collection_cards',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    collectionId: bigint({ mode: 'number' })
      .notNull()
      .references(() => collections.id, { onDelete: 'cascade' }),
    position: integer().notNull(),
    front: text().notNull(),
    back: text().notNull().default(''),
    tags: jsonb().$type<string[]>().notNull().default([]),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('collection_cards_user_id_idx').on(t.userId),
    index('collection_cards_collection_position_idx').on(t.collectionId, t.position),
  ],
);

/** Codes that let anyone signed in import a copy of one collection. */
export const collectionShareCodes = pgTable(
  'collection_share_codes',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    code: text().notNull(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    collectionId: bigint({ mode: 'number' })
      .notNull()
      .references(() => collections.id, { onDelete: 'cascade' }),
    // The owner's display name when the code was made, shown to importers.
    ownerName: text().notNull(),
    uses: integer().notNull().default(0),
    maxUses: integer(),
    expiresAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('collection_share_codes_code_idx').on(t.code),
    index('collection_share_codes_user_id_idx').on(t.userId),
    index('collection_share_codes_collection_idx').on(t.collectionId),
  ],
);
