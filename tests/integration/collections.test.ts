import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { collectionCards, collections, collectionShareCodes } from '../../server/db/schema';
import { COLLECTION_LIMITS, SHARE_CODE_ALPHABET, SHARE_CODE_LENGTH, formatShareCode } from '../../shared/collections';
import { createTestApp, signUp } from '../helpers/app';
import { collectionWithCards } from '../helpers/collections';
import { rejection } from '../helpers/errors';

const app = await createTestApp();

describe('collections and cards', () => {
  it('creates, edits, orders and removes cards, newest collections first with pages', async () => {
    const { caller } = await signUp(app);
    const first = await caller.collections.create({ title: '  Capitals  ' });
    expect(first).toMatchObject({ title: 'Capitals', description: '', cardCount: 0, source: null });
    const a = await caller.collections.addCard({
      collectionId: first.id,
      front: 'France',
      back: 'Paris',
      tags: ['europe'],
    });
    const b = await caller.collections.addCard({ collectionId: first.id, front: 'Peru', back: 'Lima' });
    const c = await caller.collections.addCard({ collectionId: first.id, front: 'Japan', back: 'Tokyo' });
    await caller.collections.updateCard({ collectionId: first.id, cardId: b.id, back: 'Lima (capital)' });
    const reordered = await caller.collections.reorderCards({ collectionId: first.id, cardIds: [c.id, a.id, b.id] });
    expect(reordered.map((x) => x.front)).toEqual(['Japan', 'France', 'Peru']);
    await caller.collections.removeCard({ collectionId: first.id, cardId: a.id });
    const got = await caller.collections.get({ id: first.id });
    expect(got.collection.cardCount).toBe(2);
    expect(got.cards.map((x) => [x.front, x.back])).toEqual([
      ['Japan', 'Tokyo'],
      ['Peru', 'Lima (capital)'],
    ]);

    const renamed = await caller.collections.update({ id: first.id, title: 'World capitals', description: 'a few' });
    expect(renamed).toMatchObject({ title: 'World capitals', description: 'a few' });
    const second = await caller.collections.create({ title: 'Second' });
    const third = await caller.collections.create({ title: 'Third' });
    const page1 = await caller.collections.list({ limit: 2 });
    expect(page1.items.map((x) => x.id)).toEqual([third.id, second.id]);
    const page2 = await caller.collections.list({ limit: 2, cursor: page1.nextCursor });
    expect(page2).toEqual({ items: [expect.objectContaining({ id: first.id })], nextCursor: null });

    await caller.collections.remove({ id: second.id });
    expect((await caller.collections.list()).items.map((x) => x.id)).toEqual([third.id, first.id]);
    expect((await rejection(caller.collections.get({ id: second.id }))).code).toBe('NOT_FOUND');
  });

  it('explains bad input: empty titles, long text, control characters, a partial reorder', async () => {
    const { caller } = await signUp(app);
    const col = await collectionWithCards(caller, 2);
    const empty = await rejection(caller.collections.create({ title: '   ' }));
    expect(empty).toMatchObject({ code: 'BAD_REQUEST' });
    expect(empty.message).toMatch(/Give the collection a title/);
    const long = await rejection(
      caller.collections.addCard({ collectionId: col.id, front: 'x'.repeat(COLLECTION_LIMITS.cardTextLength + 1) }),
    );
    expect(long.message).toMatch(`at most ${COLLECTION_LIMITS.cardTextLength} characters`);
    const nul = await rejection(caller.collections.addCard({ collectionId: col.id, front: 'a\u0000b' }));
    expect(nul).toMatchObject({ code: 'BAD_REQUEST' });
    expect(nul.message).toMatch(/control character/);
    const { cards } = await caller.collections.get({ id: col.id });
    const partial = await rejection(caller.collections.reorderCards({ collectionId: col.id, cardIds: [cards[1]!.id] }));
    expect(partial).toMatchObject({ code: 'BAD_REQUEST' });
    expect(partial.message).toMatch(/every card of the collection exactly once/);
  });

  it('stops at the per-collection card limit with a readable CONFLICT', async () => {
    const { caller, user } = await signUp(app);
    const col = await caller.collections.create({ title: 'Full' });
    // Filled through the table: 500 calls would only test patience.
    await app.db.insert(collectionCards).values(
      Array.from({ length: COLLECTION_LIMITS.cardsPerCollection }, (_, i) => ({
        userId: user.id,
        collectionId: col.id,
        position: i,
        front: `f${i}`,
      })),
    );
    await app.db
      .update(collections)
      .set({ cardCount: COLLECTION_LIMITS.cardsPerCollection })
      .where(eq(collections.id, col.id));
    const full = await rejection(caller.collections.addCard({ collectionId: col.id, front: 'one more' }));
    expect(full).toMatchObject({ code: 'CONFLICT' });
    expect(full.message).toMatch(/the most one collection holds/);
  });
});

describe('share codes', () => {
  it('makes short codes from the unambiguous alphabet, lists them with use counts, revokes them', async () => {
    const teacher = await signUp(app, { name: 'Teacher' });
    const student = await signUp(app);
    const col = await collectionWithCards(teacher.caller, 2);
    const made = await teacher.caller.collections.createShareCode({
      collectionId: col.id,
      maxUses: 5,
      expiresInHours: 24,
    });
    expect(made.code).toHaveLength(SHARE_CODE_LENGTH);
    expect([...made.code].every((ch) => SHARE_CODE_ALPHABET.includes(ch))).toBe(true);
    expect(made).toMatchObject({ uses: 0, maxUses: 5, status: 'active' });
    expect(made.expiresAt!.getTime() - Date.now()).toBeGreaterThan(23 * 3_600_000);
    const other = await teacher.caller.collections.createShareCode({ collectionId: col.id });
    expect(other.code).not.toBe(made.code);

    // Typed the way people type: lower case, with the dash it is shown with.
    await student.caller.collections.importByCode({ code: formatShareCode(made.code).toLowerCase() });
    const listed = await teacher.caller.collections.shareCodes({ collectionId: col.id });
    expect(listed.map((c) => [c.code, c.uses])).toEqual([
      [other.code, 0],
      [made.code, 1],
    ]);

    const revoked = await teacher.caller.collections.revokeShareCode({ code: made.code });
    expect(revoked.status).toBe('revoked');
    expect((await teacher.caller.collections.revokeShareCode({ code: made.code })).revokedAt).toEqual(
      revoked.revokedAt,
    );
    // The copy already made stays with the student.
    expect((await student.caller.collections.list()).items).toHaveLength(1);
  });

  it('caps the codes of one collection', async () => {
    const { caller } = await signUp(app);
    const col = await caller.collections.create({ title: 'Popular' });
    for (let i = 0; i < COLLECTION_LIMITS.shareCodesPerCollection; i++)
      await caller.collections.createShareCode({ collectionId: col.id });
    const capped = await rejection(caller.collections.createShareCode({ collectionId: col.id }));
    expect(capped).toMatchObject({ code: 'CONFLICT' });
    expect(capped.message).toMatch(/revoke one/);
  });
});

describe('importByCode', () => {
  it('copies the collection and its cards in order, records the source, and a second import returns the same copy', async () => {
    const teacher = await signUp(app, { name: 'Ms Teacher' });
    const student = await signUp(app);
    const col = await collectionWithCards(teacher.caller, 3);
    const original = await teacher.caller.collections.get({ id: col.id });
    await teacher.caller.collections.reorderCards({
      collectionId: col.id,
      cardIds: original.cards.map((c) => c.id).reverse(),
    });
    const { code } = await teacher.caller.collections.createShareCode({ collectionId: col.id });

    const imported = await student.caller.collections.importByCode({ code });
    const source = await teacher.caller.collections.get({ id: col.id });
    expect(imported.message).toBe('Imported "French verbs" (3 cards) from Ms Teacher.');
    expect(imported.collection).toMatchObject({
      title: 'French verbs',
      description: 'irregular ones',
      cardCount: 3,
      source: { code, collectionId: col.id, ownerName: 'Ms Teacher' },
    });
    const strip = (cards: typeof source.cards) => cards.map(({ front, back, tags }) => ({ front, back, tags }));
    expect(strip(imported.cards)).toEqual(strip(source.cards));
    expect(imported.cards.every((c) => c.collectionId === imported.collection.id)).toBe(true);

    const again = await student.caller.collections.importByCode({ code });
    expect(again).toMatchObject({ alreadyImported: true, collection: { id: imported.collection.id } });
    expect(again.message).toMatch(/already imported/);
    expect((await student.caller.collections.list()).items).toHaveLength(1);
    expect((await teacher.caller.collections.shareCodes({ collectionId: col.id }))[0]!.uses).toBe(1);

    // The copy is the student's own: editing it leaves the original alone.
    await student.caller.collections.updateCard({
      collectionId: imported.collection.id,
      cardId: imported.cards[0]!.id,
      front: 'changed',
    });
    expect((await teacher.caller.collections.get({ id: col.id })).cards[0]!.front).toBe(source.cards[0]!.front);
  });

  it('two imports of one code at the same moment make one copy', async () => {
    const teacher = await signUp(app);
    const student = await signUp(app);
    const col = await collectionWithCards(teacher.caller, 4);
    const { code } = await teacher.caller.collections.createShareCode({ collectionId: col.id, maxUses: 3 });
    const results = await Promise.all(
      Array.from({ length: 4 }, () => student.caller.collections.importByCode({ code })),
    );
    expect(new Set(results.map((r) => r.collection.id)).size).toBe(1);
    expect(results.filter((r) => !r.alreadyImported)).toHaveLength(1);
    const { items } = await student.caller.collections.list();
    expect(items).toHaveLength(1);
    expect((await student.caller.collections.get({ id: items[0]!.id })).cards).toHaveLength(4);
    expect((await teacher.caller.collections.shareCodes({ collectionId: col.id }))[0]!.uses).toBe(1);
  });

  it('refuses expired, revoked, used-up, unknown and own codes, each with its own message', async () => {
    const teacher = await signUp(app);
    const student = await signUp(app);
    const other = await signUp(app);
    const col = await collectionWithCards(teacher.caller, 1);
    const expired = await teacher.caller.collections.createShareCode({ collectionId: col.id, expiresInHours: 1 });
    await app.db
      .update(collectionShareCodes)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(collectionShareCodes.code, expired.code));
    const revoked = await teacher.caller.collections.createShareCode({ collectionId: col.id });
    await teacher.caller.collections.revokeShareCode({ code: revoked.code });
    const once = await teacher.caller.collections.createShareCode({ collectionId: col.id, maxUses: 1 });
    await other.caller.collections.importByCode({ code: once.code });

    const refused = async (code: string, caller = student.caller) =>
      rejection(caller.collections.importByCode({ code }));
    expect(await refused(expired.code)).toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/has expired/),
    });
    expect(await refused(revoked.code)).toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/was revoked/),
    });
    expect(await refused(once.code)).toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/used as many times as its owner allowed/),
    });
    expect(await refused('ZZZZZ-ZZZZZ')).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/No collection is shared under ZZZZZ-ZZZZZ/),
    });
    expect(await refused(once.code, teacher.caller)).toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/your own collection/),
    });
    const typo = await refused('ABCDE-0OIL1');
    expect(typo).toMatchObject({ code: 'BAD_REQUEST' });
    expect(typo.message).toMatch(/no I, L or O/);
    expect((await student.caller.collections.list()).items).toEqual([]);
  });

  it('answers TOO_MANY_REQUESTS after 30 wrong codes in a minute, even for a right one', async () => {
    const teacher = await signUp(app);
    const guesser = await signUp(app);
    const bystander = await signUp(app);
    const col = await collectionWithCards(teacher.caller, 1);
    const { code } = await teacher.caller.collections.createShareCode({ collectionId: col.id });
    for (let i = 0; i < 30; i++) {
      const wrong = `${'23456789AB'.slice(0, 8)}${SHARE_CODE_ALPHABET[i]}${SHARE_CODE_ALPHABET[i]}`;
      expect((await rejection(guesser.caller.collections.importByCode({ code: wrong }))).code).toBe('NOT_FOUND');
    }
    const blocked = await rejection(guesser.caller.collections.importByCode({ code }));
    expect(blocked).toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      message: expect.stringMatching(/Too many wrong share codes: try again in \d+ s/),
    });
    // Per user: someone else still imports.
    expect((await bystander.caller.collections.importByCode({ code })).alreadyImported).toBe(false);
  });

  it('the copy stays when the original is deleted; its code then answers NOT_FOUND', async () => {
    const teacher = await signUp(app);
    const early = await signUp(app);
    const late = await signUp(app);
    const col = await collectionWithCards(teacher.caller, 2);
    const { code } = await teacher.caller.collections.createShareCode({ collectionId: col.id });
    const copy = await early.caller.collections.importByCode({ code });
    await teacher.caller.collections.remove({ id: col.id });
    expect((await early.caller.collections.get({ id: copy.collection.id })).cards).toHaveLength(2);
    expect((await rejection(late.caller.collections.importByCode({ code }))).code).toBe('NOT_FOUND');
  });
});
