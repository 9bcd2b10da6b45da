import { z } from 'zod';

export const COLLECTIONS_FEATURE = 'collections';

/** Per-user limits; the server enforces them, the client uses them for maxLength and hints. */
export const COLLECTION_LIMITS = {
  collectionsPerUser: 200,
  cardsPerCollection: 500,
  cardsPerUser: 10_000,
  shareCodesPerCollection: 20,
  titleLength: 120,
  descriptionLength: 2_000,
  cardTextLength: 2_000,
  tagsPerCard: 10,
  tagLength: 30,
  maxUses: 100_000,
  expiresInHours: 24 * 365,
} as const;

/**
 * Share codes: 10 characters from 31 that cannot be confused when copied by hand
 * (no 0/O, no 1/I/L). 31^10 ≈ 8·10^14 codes, and wrong guesses are rate-limited per user,
 * so a code cannot be found by trying.
 */
export const SHARE_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const SHARE_CODE_LENGTH = 10;

// Control characters (NUL included) have no place in typed text; newlines and tabs do.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const text = (label: string, max: number, opts: { required?: boolean } = {}) => {
  const base = z
    .string({ error: `${label} must be text.` })
    .trim()
    .max(max, { error: `${label} is at most ${max} characters.` })
    .refine((s) => !CONTROL.test(s), { error: `${label} contains a control character: remove it.` });
  return opts.required ? base.refine((s) => s.length > 0, { error: `${label} cannot be empty.` }) : base;
};

const id = (what: string) => z.number({ error: `${what} must be a number.` }).int().positive({ error: `${what} must be a positive id.` });

/** Accepts what people type: any case, spaces or dashes between groups. */
export const ZShareCode = z
  .string({ error: 'Enter a share code.' })
  .transform((s) => s.replace(/[\s-]/g, '').toUpperCase())
  .pipe(
    z
      .string()
      .min(1, { error: 'Enter a share code.' })
      .length(SHARE_CODE_LENGTH, { error: `Share codes have ${SHARE_CODE_LENGTH} characters, like ABCDE-23456.` })
      .refine((s) => [...s].every((c) => SHARE_CODE_ALPHABET.includes(c)), {
        error: 'Share codes use only the letters A–Z (no I, L or O) and the digits 2–9: check for typos.',
      }),
  );

/** How a code is shown: two groups of five, easy to read out. */
export const formatShareCode = (code: string) => `${code.slice(0, 5)}-${code.slice(5)}`;

const ZTag = text('A tag', COLLECTION_LIMITS.tagLength, { required: true });

const collectionFields = {
  title: text('The title', COLLECTION_LIMITS.titleLength, { required: true }),
  description: text('The description', COLLECTION_LIMITS.descriptionLength).default(''),
};
const cardFields = {
  front: text('The front of a card', COLLECTION_LIMITS.cardTextLength, { required: true }),
  back: text('The back of a card', COLLECTION_LIMITS.cardTextLength).default(''),
  tags: z
    .array(ZTag)
    .max(COLLECTION_LIMITS.tagsPerCard, { error: `A card has at most ${COLLECTION_LIMITS.tagsPerCard} tags.` })
    .default([]),
};

export const ZCollectionIdInput = z.object({ id: id('id') });
export const ZCollectionListInput = z
  .object({ cursor: id('cursor').nullish(), limit: z.number().int().min(1, { error: 'limit is at least 1.' }).max(100, { error: 'limit is at most 100.' }).default(50) })
  .optional();
export const ZCollectionCreateInput = z.object(collectionFields);
export const ZCollectionUpdateInput = z.object({
  id: id('id'),
  title: collectionFields.title.optional(),
  description: text('The description', COLLECTION_LIMITS.descriptionLength).optional(),
});
export const ZCardAddInput = z.object({ collectionId: id('collectionId'), ...cardFields });
export const ZCardUpdateInput = z.object({
  collectionId: id('collectionId'),
  cardId: id('cardId'),
  front: cardFields.front.optional(),
  back: text('The back of a card', COLLECTION_LIMITS.cardTextLength).optional(),
  tags: z.array(ZTag).max(COLLECTION_LIMITS.tagsPerCard, { error: `A card has at most ${COLLECTION_LIMITS.tagsPerCard} tags.` }).optional(),
});
export const ZCardRemoveInput = z.object({ collectionId: id('collectionId'), cardId: id('cardId') });
export const ZCardReorderInput = z.object({
  collectionId: id('collectionId'),
  cardIds: z
    .array(id('cardId'))
    .max(COLLECTION_LIMITS.cardsPerCollection)
    .refine((ids) => new Set(ids).size === ids.length, { error: 'cardIds lists a card twice.' }),
});

export const ZCreateShareCodeInput = z.object({
  collectionId: id('collectionId'),
  expiresInHours: z
    .number({ error: 'expiresInHours must be a number.' })
    .int({ error: 'expiresInHours must be a whole number of hours.' })
    .min(1, { error: 'expiresInHours is at least 1.' })
    .max(COLLECTION_LIMITS.expiresInHours, { error: `expiresInHours is at most ${COLLECTION_LIMITS.expiresInHours} (a year).` })
    .nullish(),
  maxUses: z
    .number({ error: 'maxUses must be a number.' })
    .int({ error: 'maxUses must be a whole number.' })
    .min(1, { error: 'maxUses is at least 1.' })
    .max(COLLECTION_LIMITS.maxUses, { error: `maxUses is at most ${COLLECTION_LIMITS.maxUses}.` })
    .nullish(),
});
export const ZRevokeShareCodeInput = z.object({ code: ZShareCode });
export const ZShareCodesInput = z.object({ collectionId: id('collectionId') });
export const ZImportByCodeInput = z.object({ code: ZShareCode });

export const ZCollection = z.object({
  id: z.number(),
  title: z.string(),
  description: z.string(),
  cardCount: z.number(),
  /** Set on an imported copy: where it came from. */
  source: z.object({ code: z.string(), collectionId: z.number().nullable(), ownerName: z.string() }).nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type Collection = z.infer<typeof ZCollection>;

export const ZCard = z.object({
  id: z.number(),
  collectionId: z.number(),
  position: z.number(),
  front: z.string(),
  back: z.string(),
  tags: z.array(z.string()),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type Card = z.infer<typeof ZCard>;

export const ZShareCodeInfo = z.object({
  code: z.string(),
  collectionId: z.number(),
  uses: z.number(),
  maxUses: z.number().nullable(),
  expiresAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
  createdAt: z.date(),
  status: z.enum(['active', 'expired', 'revoked', 'exhausted']),
});
export type ShareCodeInfo = z.infer<typeof ZShareCodeInfo>;

export const ZCollectionListOutput = z.object({ items: z.array(ZCollection), nextCursor: z.number().nullable() });
export const ZCollectionGetOutput = z.object({ collection: ZCollection, cards: z.array(ZCard) });
export const ZCollectionOutput = ZCollection;
export const ZCardOutput = ZCard;
export const ZCardsOutput = z.array(ZCard);
export const ZRemovedOutput = z.object({ id: z.number() });
export const ZCreateShareCodeOutput = ZShareCodeInfo;
export const ZShareCodesOutput = z.array(ZShareCodeInfo);
export const ZImportByCodeOutput = z.object({ collection: ZCollection, cards: z.array(ZCard), message: z.string(), alreadyImported: z.boolean() });

/** What `collections.events` carries (the payload of inbox entries of feature "collections"). */
export type CollectionEvent =
  | { type: 'new_collection'; payload: { collection: Collection; message?: string } }
  | { type: 'collection_updated'; payload: { collection: Collection } }
  | { type: 'collection_removed'; payload: { id: number } };
export const COLLECTION_EVENT_TYPES = ['new_collection', 'collection_updated', 'collection_removed'] as const;

/** Sent to a collection's owner (through `system.notifications`) when someone imports it. */
export const COLLECTION_IMPORTED = 'collection_imported';
