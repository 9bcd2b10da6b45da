import { randomInt } from 'node:crypto';
import { and, count, desc, eq, isNull } from 'drizzle-orm';
import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Db } from '../../db/client';
import { AppError } from '../../errors';
import { collections, collectionShareCodes } from '../../db/schema';
import type { Inbox } from '../../realtime/inbox';
import { giveBack, take } from '../../cluster/take';
import type { SessionUser } from '../../../shared/auth';
import {
  COLLECTION_LIMITS,
  formatShareCode,
  SHARE_CODE_ALPHABET,
  SHARE_CODE_LENGTH,
  type ShareCodeInfo,
} from '../../../shared/collections';
import { importCopy, type Imported } from './import-copy';
import { collectionNotFound, limitReached, toShareCodeInfo } from './rows';

export interface ShareCodesDeps {
  db: Db;
  inbox: Inbox;
  /** Wrong codes (unknown, expired, revoked, used up) one user may send per minute before imports are refused. */
  wrongCodesPerMinute?: number;
  /** Makes the counter: shared by every instance in a cluster (server/cluster/limits.ts); in memory when absent. */
  limiter?: (o: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;
}

/** Uniform over the alphabet (randomInt rejects biased draws), from the OS's CSPRNG. */
export function generateShareCode(): string {
  let code = '';
  for (let i = 0; i < SHARE_CODE_LENGTH; i++) code += SHARE_CODE_ALPHABET[randomInt(SHARE_CODE_ALPHABET.length)];
  return code;
}

const shown = (code: string) => formatShareCode(code);

/** Share codes of one's own collections, and importing someone else's by its code. */
export class ShareCodeService {
  private readonly wrongCodes: RateLimiterAbstract;

  constructor(private readonly deps: ShareCodesDeps) {
    const make = deps.limiter ?? ((o) => new RateLimiterMemory(o));
    this.wrongCodes = make({
      keyPrefix: 'collections.wrong-code',
      points: deps.wrongCodesPerMinute ?? 30,
      duration: 60,
    });
  }

  async create(
    user: SessionUser,
    input: { collectionId: number; expiresInHours?: number | null; maxUses?: number | null },
  ): Promise<ShareCodeInfo> {
    return this.deps.db.transaction(async (tx) => {
      // Locking the collection serialises the count below with concurrent creates.
      const [owned] = await tx
        .select({ id: collections.id })
        .from(collections)
        .where(and(eq(collections.id, input.collectionId), eq(collections.userId, user.id)))
        .for('update');
      if (!owned) throw collectionNotFound();
      const [active] = await tx
        .select({ n: count() })
        .from(collectionShareCodes)
        .where(
          and(
            eq(collectionShareCodes.collectionId, input.collectionId),
            eq(collectionShareCodes.userId, user.id),
            isNull(collectionShareCodes.revokedAt),
          ),
        );
      if ((active?.n ?? 0) >= COLLECTION_LIMITS.shareCodesPerCollection) {
        throw limitReached(
          `This collection has ${COLLECTION_LIMITS.shareCodesPerCollection} share codes, the most it can have: revoke one you no longer hand out first.`,
        );
      }
      const expiresAt = input.expiresInHours ? new Date(Date.now() + input.expiresInHours * 3_600_000) : null;
      // A collision is astronomically rare; on one, draw again rather than fail.
      for (let attempt = 0; attempt < 5; attempt++) {
        const [row] = await tx
          .insert(collectionShareCodes)
          .values({
            code: generateShareCode(),
            userId: user.id,
            collectionId: input.collectionId,
            ownerName: user.name,
            maxUses: input.maxUses ?? null,
            expiresAt,
          })
          .onConflictDoNothing({ target: collectionShareCodes.code })
          .returning();
        if (row) return toShareCodeInfo(row);
      }
      throw new Error('five share codes in a row collided: is the random source broken?');
    });
  }

  /** The owner's view of one collection's codes, newest first, with their use counts. */
  async list(userId: string, collectionId: number): Promise<ShareCodeInfo[]> {
    const [owned] = await this.deps.db
      .select({ id: collections.id })
      .from(collections)
      .where(and(eq(collections.id, collectionId), eq(collections.userId, userId)));
    if (!owned) throw collectionNotFound();
    const rows = await this.deps.db
      .select()
      .from(collectionShareCodes)
      .where(and(eq(collectionShareCodes.collectionId, collectionId), eq(collectionShareCodes.userId, userId)))
      .orderBy(desc(collectionShareCodes.id));
    return rows.map(toShareCodeInfo);
  }

  /** Revoking twice is fine (the first revocation stands); copies already imported stay. */
  async revoke(userId: string, code: string): Promise<ShareCodeInfo> {
    const mine = and(eq(collectionShareCodes.code, code), eq(collectionShareCodes.userId, userId));
    const [row] = await this.deps.db
      .update(collectionShareCodes)
      .set({ revokedAt: new Date() })
      .where(and(mine, isNull(collectionShareCodes.revokedAt)))
      .returning();
    if (row) return toShareCodeInfo(row);
    const [already] = await this.deps.db.select().from(collectionShareCodes).where(mine);
    if (!already) throw new AppError('NOT_FOUND', `No share code ${shown(code)} among yours: check the code.`);
    return toShareCodeInfo(already);
  }

  /**
   * Copies the shared collection into the caller's account, once per code: a second import,
   * even one racing the first, returns the copy already made. Wrong codes are counted per
   * user so codes cannot be found by trying.
   */
  async importByCode(user: SessionUser, code: string): Promise<Imported> {
    // Counted as wrong before the lookup, and given back once it proves right: a batch of
    // guesses cannot all be looked up before the first of them is counted.
    const taken = await take(this.wrongCodes, user.id);
    if (!taken.ok) throw tooMany(taken.waitSeconds);
    let wrong = true;
    try {
      const [share] = await this.deps.db.select().from(collectionShareCodes).where(eq(collectionShareCodes.code, code));
      if (!share)
        throw new AppError(
          'NOT_FOUND',
          `No collection is shared under ${shown(code)}: check the code with whoever gave it to you.`,
        );
      if (share.userId === user.id) {
        wrong = false;
        throw new AppError('BAD_REQUEST', `${shown(code)} shares your own collection: it is already in your list.`);
      }
      const result = await importCopy(this.deps, user, share);
      if (!result.ok) throw unusable(result.status, code);
      wrong = false;
      return result.imported;
    } catch (err) {
      // Only a code that names no usable share counts; our own failures do not.
      if (!(err instanceof AppError)) wrong = false;
      throw err;
    } finally {
      if (!wrong) await giveBack(this.wrongCodes, user.id);
    }
  }
}

function tooMany(waitSeconds: number) {
  return new AppError('TOO_MANY_REQUESTS', `Too many wrong share codes: try again in ${waitSeconds} s.`);
}

function unusable(status: Exclude<ShareCodeInfo['status'], 'active'> | 'unknown', code: string) {
  if (status === 'unknown')
    return new AppError('NOT_FOUND', `No collection is shared under ${shown(code)} any more: its owner deleted it.`);
  const messages = {
    expired: `Share code ${shown(code)} has expired: ask its owner for a new one.`,
    revoked: `Share code ${shown(code)} was revoked by its owner: ask them for a new one.`,
    exhausted: `Share code ${shown(code)} has been used as many times as its owner allowed: ask them for a new one.`,
  };
  return new AppError('FORBIDDEN', messages[status]);
}
