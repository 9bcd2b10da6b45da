import { and, asc, count, desc, eq, gt, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { AppError } from '../../errors';
import { collectionCards, collections } from '../../db/schema';
import type { Inbox } from '../../realtime/inbox';
import type { StreamScope } from '../../realtime/streams';
import {
  COLLECTION_EVENT_TYPES,
  COLLECTION_LIMITS,
  COLLECTIONS_FEATURE,
  type Card,
  type Collection,
  type CollectionEvent,
} from '../../../shared/collections';
import { CURSOR_MESSAGE, decodeOrder, encodeOrder } from '../../../shared/cursor';
import { withEvents, type Emit } from './events';
import { checkCardBudget, lockUser } from './limits';
import { cardNotFound, collectionNotFound, limitReached, toCard, toCollection } from './rows';

export interface CollectionsDeps {
  db: Db;
  inbox: Inbox;
}

type CardFields = { front: string; back: string; tags: string[] };

/**
 * Collections and their cards. Every query filters by the caller's id, so another user's
 * collection or card is NOT_FOUND; every change tells all the caller's tabs (collections.events).
 */
export class CollectionsService {
  constructor(private readonly deps: CollectionsDeps) {}

  async list(
    userId: string,
    page: { cursor?: number | null; limit: number },
  ): Promise<{ items: Collection[]; nextCursor: number | null }> {
    const rows = await this.deps.db
      .select()
      .from(collections)
      .where(and(eq(collections.userId, userId), page.cursor ? lt(collections.id, page.cursor) : undefined))
      .orderBy(desc(collections.id))
      .limit(page.limit + 1);
    const items = rows.slice(0, page.limit).map(toCollection);
    return { items, nextCursor: rows.length > page.limit ? items.at(-1)!.id : null };
  }

  /** One page of the collection's cards in their order: position, then id, so the order is total even if two cards share a position. */
  async get(
    userId: string,
    id: number,
    page: { cursor?: string | null; limit: number },
  ): Promise<{ collection: Collection; cards: Card[]; nextCursor: string | null }> {
    const row = await this.owned(this.deps.db, userId, id);
    const from = page.cursor ? decodeOrder(page.cursor) : null;
    if (page.cursor && !from) throw new AppError('BAD_REQUEST', CURSOR_MESSAGE);
    const after = from
      ? or(
          gt(collectionCards.position, from.position),
          and(eq(collectionCards.position, from.position), gt(collectionCards.id, from.id)),
        )
      : undefined;
    const rows = await this.deps.db
      .select()
      .from(collectionCards)
      .where(and(eq(collectionCards.collectionId, id), eq(collectionCards.userId, userId), after))
      .orderBy(asc(collectionCards.position), asc(collectionCards.id))
      .limit(page.limit + 1);
    const cards = rows.slice(0, page.limit).map(toCard);
    const last = cards.at(-1);
    return {
      collection: toCollection(row),
      cards,
      nextCursor: rows.length > page.limit && last ? encodeOrder(last) : null,
    };
  }

  create(userId: string, input: { title: string; description: string }): Promise<Collection> {
    return withEvents(this.deps, async (tx, emit) => {
      await lockUser(tx, userId);
      const [counted] = await tx.select({ n: count() }).from(collections).where(eq(collections.userId, userId));
      const n = counted?.n ?? 0;
      if (n >= COLLECTION_LIMITS.collectionsPerUser) {
        throw limitReached(
          `You have ${n} collections, the most one account keeps: delete one you no longer need first.`,
        );
      }
      const [row] = await tx
        .insert(collections)
        .values({ userId, ...input })
        .returning();
      const collection = toCollection(row!);
      emit(userId, { type: 'new_collection', payload: { collection } });
      return collection;
    });
  }

  update(userId: string, id: number, patch: { title?: string; description?: string }): Promise<Collection> {
    return withEvents(this.deps, async (tx, emit) => {
      const [row] = await tx
        .update(collections)
        .set({ ...patch, updatedAt: new Date() })
        .where(and(eq(collections.id, id), eq(collections.userId, userId)))
        .returning();
      if (!row) throw collectionNotFound();
      return this.updated(emit, userId, row);
    });
  }

  /** Its cards and share codes go with it (cascade); copies others imported stay theirs. */
  remove(userId: string, id: number): Promise<{ id: number }> {
    return withEvents(this.deps, async (tx, emit) => {
      const [row] = await tx
        .delete(collections)
        .where(and(eq(collections.id, id), eq(collections.userId, userId)))
        .returning({ id: collections.id });
      if (!row) throw collectionNotFound();
      emit(userId, { type: 'collection_removed', payload: { id } });
      return row;
    });
  }

  addCard(userId: string, collectionId: number, fields: CardFields): Promise<Card> {
    return withEvents(this.deps, async (tx, emit) => {
      await lockUser(tx, userId);
      const owner = await this.owned(tx, userId, collectionId);
      if (owner.cardCount >= COLLECTION_LIMITS.cardsPerCollection) {
        throw limitReached(
          `This collection has ${owner.cardCount} cards, the most one collection holds: start another collection.`,
        );
      }
      await checkCardBudget(tx, userId, 1);
      const [last] = await tx
        .select({ next: sql<number>`coalesce(max(${collectionCards.position}) + 1, 0)`.mapWith(Number) })
        .from(collectionCards)
        .where(and(eq(collectionCards.collectionId, collectionId), eq(collectionCards.userId, userId)));
      const [card] = await tx
        .insert(collectionCards)
        .values({ userId, collectionId, position: last?.next ?? 0, ...fields })
        .returning();
      await this.touch(tx, emit, userId, collectionId, 1);
      return toCard(card!);
    });
  }

  updateCard(userId: string, collectionId: number, cardId: number, patch: Partial<CardFields>): Promise<Card> {
    return withEvents(this.deps, async (tx, emit) => {
      const [card] = await tx
        .update(collectionCards)
        .set({ ...patch, updatedAt: new Date() })
        .where(
          and(
            eq(collectionCards.id, cardId),
            eq(collectionCards.collectionId, collectionId),
            eq(collectionCards.userId, userId),
          ),
        )
        .returning();
      if (!card) throw (await this.exists(tx, userId, collectionId)) ? cardNotFound() : collectionNotFound();
      await this.touch(tx, emit, userId, collectionId, 0);
      return toCard(card);
    });
  }

  removeCard(userId: string, collectionId: number, cardId: number): Promise<{ id: number }> {
    return withEvents(this.deps, async (tx, emit) => {
      const [card] = await tx
        .delete(collectionCards)
        .where(
          and(
            eq(collectionCards.id, cardId),
            eq(collectionCards.collectionId, collectionId),
            eq(collectionCards.userId, userId),
          ),
        )
        .returning({ id: collectionCards.id });
      if (!card) throw (await this.exists(tx, userId, collectionId)) ? cardNotFound() : collectionNotFound();
      await this.touch(tx, emit, userId, collectionId, -1);
      return card;
    });
  }

  /** `cardIds` is the new order of all the collection's cards. */
  reorderCards(userId: string, collectionId: number, cardIds: number[]): Promise<Card[]> {
    return withEvents(this.deps, async (tx, emit) => {
      // Locked, so a card added meanwhile cannot be left out of the permutation check.
      await this.owned(tx, userId, collectionId, { lock: true });
      const current = await this.cards(tx, userId, collectionId);
      const given = new Set(cardIds);
      if (current.length !== cardIds.length || current.some((c) => !given.has(c.id))) {
        throw new AppError(
          'BAD_REQUEST',
          'cardIds must list every card of the collection exactly once: reload the collection and try again.',
        );
      }
      if (cardIds.length > 0) {
        const ids = sql.join(
          cardIds.map((id) => sql`${id}`),
          sql`, `,
        );
        await tx
          .update(collectionCards)
          .set({ position: sql`array_position(ARRAY[${ids}]::bigint[], ${collectionCards.id}) - 1` })
          .where(and(eq(collectionCards.collectionId, collectionId), eq(collectionCards.userId, userId)));
      }
      await this.touch(tx, emit, userId, collectionId, 0);
      return this.cards(tx, userId, collectionId);
    });
  }

  /** `collections.events`: the caller's inbox, narrowed to this feature's three event types. */
  events(userId: string, lastEventId: string | null | undefined, scope: StreamScope) {
    return this.deps.inbox.stream<CollectionEvent>(
      { userId, lastEventId, feature: COLLECTIONS_FEATURE, types: COLLECTION_EVENT_TYPES },
      scope,
    );
  }

  private async owned(tx: Db, userId: string, id: number, opts: { lock?: boolean } = {}) {
    const query = tx
      .select()
      .from(collections)
      .where(and(eq(collections.id, id), eq(collections.userId, userId)));
    const [row] = opts.lock ? await query.for('update') : await query;
    if (!row) throw collectionNotFound();
    return row;
  }

  private async exists(tx: Db, userId: string, id: number) {
    const [row] = await tx
      .select({ id: collections.id })
      .from(collections)
      .where(and(eq(collections.id, id), eq(collections.userId, userId)));
    return row !== undefined;
  }

  private async cards(tx: Db, userId: string, collectionId: number): Promise<Card[]> {
    const rows = await tx
      .select()
      .from(collectionCards)
      .where(and(eq(collectionCards.collectionId, collectionId), eq(collectionCards.userId, userId)))
      .orderBy(asc(collectionCards.position), asc(collectionCards.id));
    return rows.map(toCard);
  }

  /** A card changed: the collection's count and updatedAt follow, and every tab is told. */
  private async touch(tx: Db, emit: Emit, userId: string, collectionId: number, delta: number) {
    const [row] = await tx
      .update(collections)
      .set({ cardCount: sql`${collections.cardCount} + ${delta}`, updatedAt: new Date() })
      .where(and(eq(collections.id, collectionId), eq(collections.userId, userId)))
      .returning();
    if (!row) throw collectionNotFound();
    this.updated(emit, userId, row);
  }

  private updated(emit: Emit, userId: string, row: typeof collections.$inferSelect): Collection {
    const collection = toCollection(row);
    emit(userId, { type: 'collection_updated', payload: { collection } });
    return collection;
  }
}
