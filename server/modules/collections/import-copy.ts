import { and, asc, count, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { insertOnce } from '../../db/insert-once';
import { collectionCards, collections, collectionShareCodes } from '../../db/schema';
import type { Inbox } from '../../realtime/inbox';
import type { SessionUser } from '../../../shared/auth';
import {
  COLLECTION_IMPORTED,
  COLLECTION_LIMITS,
  formatShareCode,
  type Card,
  type Collection,
  type ShareCodeInfo,
} from '../../../shared/collections';
import { withEvents } from './events';
import { limitReached, shareCodeStatus, toCard, toCollection } from './rows';
import { checkCardBudget, lockUser } from './limits';

export interface Imported {
  collection: Collection;
  cards: Card[];
  message: string;
  alreadyImported: boolean;
}

type ShareRow = typeof collectionShareCodes.$inferSelect;
type Refused = Exclude<ShareCodeInfo['status'], 'active'> | 'unknown';
export type ImportResult = { ok: true; imported: Imported } | { ok: false; status: Refused };

/** Thrown inside the transaction so the copy made so far is rolled back. */
class CodeRefused extends Error {
  constructor(readonly status: Refused) {
    super(status);
  }
}

/**
 * The copy is inserted first, with insertOnce under the unique (user, code) index: of two
 * racing imports the second finds the first's row instead of copying twice. Only then is a use counted, with a conditional update that re-checks expiry,
 * revocation and the use limit under the row lock, so concurrent importers never exceed it.
 */
export async function importCopy(
  deps: { db: Db; inbox: Inbox },
  user: SessionUser,
  share: ShareRow,
): Promise<ImportResult> {
  const existing = await findCopy(deps.db, user.id, share.code);
  if (existing) return { ok: true, imported: await alreadyImported(deps.db, user.id, existing) };
  const status = shareCodeStatus(share);
  if (status !== 'active') return { ok: false, status };
  try {
    const imported = await withEvents(deps, async (tx, emit) => {
      await lockUser(tx, user.id);
      const [owned] = await tx.select({ n: count() }).from(collections).where(eq(collections.userId, user.id));
      if ((owned?.n ?? 0) >= COLLECTION_LIMITS.collectionsPerUser) {
        throw limitReached(
          `You have ${owned?.n} collections, the most one account keeps: delete one before importing another.`,
        );
      }
      const [source] = await tx
        .select()
        .from(collections)
        .where(and(eq(collections.id, share.collectionId), eq(collections.userId, share.userId)));
      if (!source) throw new CodeRefused('unknown');
      const sourceCards = await tx
        .select()
        .from(collectionCards)
        .where(and(eq(collectionCards.collectionId, source.id), eq(collectionCards.userId, share.userId)))
        .orderBy(asc(collectionCards.position), asc(collectionCards.id));
      await checkCardBudget(tx, user.id, sourceCards.length);

      const { row: copy, created } = await insertOnce(
        tx,
        collections,
        {
          userId: user.id,
          title: source.title,
          description: source.description,
          cardCount: sourceCards.length,
          sourceCode: share.code,
          sourceCollectionId: source.id,
          sourceOwnerName: share.ownerName,
        },
        ['userId', 'sourceCode'],
      );
      // A racing import of the same code committed first: its copy is the one, and nothing is announced twice.
      if (!created) return alreadyImported(tx, user.id, copy);

      const now = new Date();
      const [used] = await tx
        .update(collectionShareCodes)
        .set({ uses: sql`${collectionShareCodes.uses} + 1` })
        .where(
          and(
            eq(collectionShareCodes.id, share.id),
            isNull(collectionShareCodes.revokedAt),
            or(isNull(collectionShareCodes.expiresAt), gt(collectionShareCodes.expiresAt, now)),
            or(
              isNull(collectionShareCodes.maxUses),
              sql`${collectionShareCodes.uses} < ${collectionShareCodes.maxUses}`,
            ),
          ),
        )
        .returning();
      if (!used) {
        const [current] = await tx.select().from(collectionShareCodes).where(eq(collectionShareCodes.id, share.id));
        const refused = current ? shareCodeStatus(current) : 'unknown';
        throw new CodeRefused(refused === 'active' ? 'exhausted' : refused);
      }

      const cards = sourceCards.length
        ? await tx
            .insert(collectionCards)
            .values(
              sourceCards.map((c, i) => ({
                userId: user.id,
                collectionId: copy.id,
                position: i,
                front: c.front,
                back: c.back,
                tags: c.tags,
              })),
            )
            .returning()
        : [];
      const collection = toCollection(copy);
      const message = `Imported "${source.title}" (${cards.length} card${cards.length === 1 ? '' : 's'}) from ${share.ownerName}.`;
      emit(user.id, { type: 'new_collection', payload: { collection, message } });
      emit(share.userId, {
        type: COLLECTION_IMPORTED,
        payload: {
          collectionId: source.id,
          code: share.code,
          uses: used.uses,
          importerName: user.name,
          message: `${user.name} imported your collection "${source.title}" (code ${formatShareCode(share.code)}).`,
        },
      });
      return {
        collection,
        cards: cards.sort((a, b) => a.position - b.position).map(toCard),
        message,
        alreadyImported: false,
      };
    });
    return { ok: true, imported };
  } catch (err) {
    if (err instanceof CodeRefused) return { ok: false, status: err.status };
    throw err;
  }
}

async function findCopy(db: Db, userId: string, code: string) {
  const [row] = await db
    .select()
    .from(collections)
    .where(and(eq(collections.userId, userId), eq(collections.sourceCode, code)));
  return row;
}

async function alreadyImported(db: Db, userId: string, row: typeof collections.$inferSelect): Promise<Imported> {
  const cards = await db
    .select()
    .from(collectionCards)
    .where(and(eq(collectionCards.collectionId, row.id), eq(collectionCards.userId, userId)))
    .orderBy(asc(collectionCards.position), asc(collectionCards.id));
  return {
    collection: toCollection(row),
    cards: cards.map(toCard),
    message: `You already imported "${row.title}" with this code: it is in your collections.`,
    alreadyImported: true,
  };
}
