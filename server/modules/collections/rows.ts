import { AppError } from '../../errors';
import type { collectionCards, collections, collectionShareCodes } from '../../db/schema';
import type { Card, Collection, ShareCodeInfo } from '../../../shared/collections';

type CollectionRow = typeof collections.$inferSelect;
type CardRow = typeof collectionCards.$inferSelect;
type ShareCodeRow = typeof collectionShareCodes.$inferSelect;

export const toCollection = (r: CollectionRow): Collection => ({
  id: r.id,
  title: r.title,
  description: r.description,
  cardCount: r.cardCount,
  source:
    r.sourceCode === null
      ? null
      : { code: r.sourceCode, collectionId: r.sourceCollectionId, ownerName: r.sourceOwnerName ?? '' },
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

export const toCard = (r: CardRow): Card => ({
  id: r.id,
  collectionId: r.collectionId,
  position: r.position,
  front: r.front,
  back: r.back,
  tags: r.tags,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

/** Why a code no longer works, checked in this order (a revoked code stays revoked). */
export function shareCodeStatus(r: ShareCodeRow, now = new Date()): ShareCodeInfo['status'] {
  if (r.revokedAt) return 'revoked';
  if (r.expiresAt && r.expiresAt <= now) return 'expired';
  if (r.maxUses !== null && r.uses >= r.maxUses) return 'exhausted';
  return 'active';
}

export const toShareCodeInfo = (r: ShareCodeRow): ShareCodeInfo => ({
  code: r.code,
  collectionId: r.collectionId,
  uses: r.uses,
  maxUses: r.maxUses,
  expiresAt: r.expiresAt,
  revokedAt: r.revokedAt,
  createdAt: r.createdAt,
  status: shareCodeStatus(r),
});

// Another user's collection is NOT_FOUND, never FORBIDDEN: its existence is not revealed.
export const collectionNotFound = () =>
  new AppError('NOT_FOUND', 'No such collection among yours: it may have been deleted.');
export const cardNotFound = () =>
  new AppError('NOT_FOUND', 'No such card in this collection: it may have been deleted.');
// CONFLICT, as for strategies: the request is fine, the account is full.
export const limitReached = (message: string) => new AppError('CONFLICT', message);
