import { eq, sql, sum } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { collections } from '../../db/schema';
import { COLLECTION_LIMITS } from '../../../shared/collections';
import { limitReached } from './rows';

/** Advisory-lock namespace of these locks; the two-int form stays out of the one-bigint space singletons use. */
const LIMIT_LOCK_SPACE = 48_214;

/**
 * Serialises one user's limit checks (count, then insert): two tabs adding at once cannot
 * both pass a check made for one. Transaction-scoped, so it is released at commit.
 */
export async function lockUser(tx: Db, userId: string) {
  await tx.execute(sql`select pg_advisory_xact_lock(${sql.raw(String(LIMIT_LOCK_SPACE))}, hashtext(${userId}))`);
}

export async function checkCardBudget(tx: Db, userId: string, adding: number) {
  const [budget] = await tx
    .select({ total: sum(collections.cardCount).mapWith(Number) })
    .from(collections)
    .where(eq(collections.userId, userId));
  if ((budget?.total ?? 0) + adding > COLLECTION_LIMITS.cardsPerUser) {
    throw limitReached(
      `That would take you past ${COLLECTION_LIMITS.cardsPerUser} cards, the most one account keeps: delete cards you no longer need first.`,
    );
  }
}
