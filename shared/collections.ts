import { idCursor, orderCursor } from './cursor';
import { z } from 'zod';
import { pageSize, recordId } from './fields';
import { text } from './text';

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

/** Accepts what people type: any case, spaces or dashes between groups. */
export const ZShareCode = z
  .string({ error: 'Enter a share code.' })
  .max(40, { error: `Share codes have ${SHARE_CODE_LENGTH} characters, like ABCDE-23456.` })
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

const ZTag = text({
  label: 'Tags',
  required: 'Tags cannot be empty: remove the extra comma.',
  max: COLLECTION_LIMITS.tagLength,
});

const title = text({ label: 'Titles', required: 'Give the collection a title.', max: COLLECTION_LIMITS.titleLength });
const description = text({ label: 'Descriptions', min: 0, max: COLLECTION_LIMITS.descriptionLength, multiline: true });
const front = text({
  label: 'Card fronts',
  required: 'Write something on the front of the card.',
  max: COLLECTION_LIMITS.cardTextLength,
  multiline: true,
});
const back = text({ label: 'Card backs', min: 0, max: COLLECTION_LIMITS.cardTextLength, multiline: true });
const tags = z
  .array(ZTag)
  .max(COLLECTION_LIMITS.tagsPerCard, { error: `A card has at most ${COLLECTION_LIMITS.tagsPerCard} tags.` });

export const ZCollectionIdInput = z.object({ id: recordId('collection') });
/** Cards are paged in their order; the cursor is `<position>:<id>` of the last card of the page before. */
export const CARDS_PAGE_MAX = 100;
export const ZCollectionGetInput = z.object({
  id: recordId('collection'),
  cursor: orderCursor(),
  limit: pageSize(CARDS_PAGE_MAX, CARDS_PAGE_MAX),
});
export const ZCollectionListInput = z
  .object({
    cursor: idCursor(),
    limit: pageSize(100, 50),
  })
  .optional();
export const ZCollectionCreateInput = z.object({ title, description: description.default('') });
export const ZCollectionUpdateInput = z.object({
  id: recordId('collection'),
  title: title.optional(),
  description: description.optional(),
});
export const ZCardAddInput = z.object({
  collectionId: recordId('collection'),
  front,
  back: back.default(''),
  tags: tags.default([]),
});
export const ZCardUpdateInput = z.object({
  collectionId: recordId('collection'),
  cardId: recordId('card'),
  front: front.optional(),
  back: back.optional(),
  tags: tags.optional(),
});
export const ZCardRemoveInput = z.object({ collectionId: recordId('collection'), cardId: recordId('card') });
export const ZCardReorderInput = z.object({
  collectionId: recordId('collection'),
  cardIds: z
    .array(recordId('card'))
    .max(COLLECTION_LIMITS.cardsPerCollection)
    .refine((ids) => new Set(ids).size === ids.length, { error: 'The same card is listed twice.' }),
});

export const ZCreateShareCodeInput = z.object({
  collectionId: recordId('collection'),
  expiresInHours: z
    .number({ error: 'The expiry must be a number of hours.' })
    .int({ error: 'The expiry must be a whole number of hours.' })
    .min(1, { error: 'The expiry is at least 1 hour.' })
    .max(COLLECTION_LIMITS.expiresInHours, {
      error: `The expiry is at most ${COLLECTION_LIMITS.expiresInHours} hours (a year).`,
    })
    .nullish(),
  maxUses: z
    .number({ error: 'The number of uses must be a number.' })
    .int({ error: 'The number of uses must be a whole number.' })
    .min(1, { error: 'The number of uses is at least 1.' })
    .max(COLLECTION_LIMITS.maxUses, { error: `The number of uses is at most ${COLLECTION_LIMITS.maxUses}.` })
    .nullish(),
});
export const ZRevokeShareCodeInput = z.object({ code: ZShareCode });
export const ZShareCodesInput = z.object({ collectionId: recordId('collection') });
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
/** `cards` is one page; `nextCursor` asks for the next (null on the last page). */
export const ZCollectionGetOutput = z.object({
  collection: ZCollection,
  cards: z.array(ZCard),
  nextCursor: z.string().nullable(),
});
export const ZCollectionOutput = ZCollection;
export const ZCardOutput = ZCard;
export const ZCardsOutput = z.array(ZCard);
export const ZRemovedOutput = z.object({ id: z.number() });
export const ZCreateShareCodeOutput = ZShareCodeInfo;
export const ZShareCodesOutput = z.array(ZShareCodeInfo);
export const ZImportByCodeOutput = z.object({
  collection: ZCollection,
  cards: z.array(ZCard),
  message: z.string(),
  alreadyImported: z.boolean(),
});

/** What `collections.events` carries (the payload of inbox entries of feature "collections"). */
export type CollectionEvent =
  | { type: 'new_collection'; payload: { collection: Collection; message?: string } }
  | { type: 'collection_updated'; payload: { collection: Collection } }
  | { type: 'collection_removed'; payload: { id: number } };
export const COLLECTION_EVENT_TYPES = ['new_collection', 'collection_updated', 'collection_removed'] as const;

/** Sent to a collection's owner (through `system.notifications`) when someone imports it. */
export const COLLECTION_IMPORTED = 'collection_imported';
