import { describe, expect, it } from 'vitest';
import { appRouter } from '../../server/router';
import { anonymousCaller, createTestApp, signUp } from '../helpers/app';
import { collectionWithCards } from '../helpers/collections';
import { rejection } from '../helpers/errors';

const app = await createTestApp();

// Alice owns a collection with cards and a code; Bob tries everything on it with his own session.
const alice = await signUp(app);
const bob = await signUp(app);
const col = await collectionWithCards(alice.caller, 2);
const { cards } = await alice.caller.collections.get({ id: col.id });
const card = cards[0]!;
const { code } = await alice.caller.collections.createShareCode({ collectionId: col.id });
const bobs = await bob.caller.collections.create({ title: "Bob's own" });

const attempts: Record<string, () => Promise<unknown>> = {
  get: () => bob.caller.collections.get({ id: col.id }),
  update: () => bob.caller.collections.update({ id: col.id, title: 'taken' }),
  remove: () => bob.caller.collections.remove({ id: col.id }),
  addCard: () => bob.caller.collections.addCard({ collectionId: col.id, front: 'intruder' }),
  updateCard: () => bob.caller.collections.updateCard({ collectionId: col.id, cardId: card.id, front: 'taken' }),
  // Alice's card through Bob's own collection is not his either.
  updateCardViaOwnCollection: () =>
    bob.caller.collections.updateCard({ collectionId: bobs.id, cardId: card.id, front: 'taken' }),
  removeCard: () => bob.caller.collections.removeCard({ collectionId: col.id, cardId: card.id }),
  removeCardViaOwnCollection: () => bob.caller.collections.removeCard({ collectionId: bobs.id, cardId: card.id }),
  reorderCards: () =>
    bob.caller.collections.reorderCards({ collectionId: col.id, cardIds: cards.map((c) => c.id).reverse() }),
  createShareCode: () => bob.caller.collections.createShareCode({ collectionId: col.id }),
  shareCodes: () => bob.caller.collections.shareCodes({ collectionId: col.id }),
  revokeShareCode: () => bob.caller.collections.revokeShareCode({ code }),
};

describe("another user's collection", () => {
  it.each(Object.keys(attempts))('%s answers NOT_FOUND and changes nothing', async (name) => {
    expect((await rejection(attempts[name]!())).code).toBe('NOT_FOUND');
    const after = await alice.caller.collections.get({ id: col.id });
    expect(after.collection).toMatchObject({ title: col.title, cardCount: 2 });
    expect(after.cards).toEqual(cards);
    expect((await alice.caller.collections.shareCodes({ collectionId: col.id })).map((c) => c.status)).toEqual([
      'active',
    ]);
  });

  it("list shows only the caller's collections, and create writes only to the caller's account", async () => {
    expect((await bob.caller.collections.list()).items.map((c) => c.id)).toEqual([bobs.id]);
    expect((await alice.caller.collections.list()).items.map((c) => c.id)).toEqual([col.id]);
  });

  it('importByCode is the one way in, and it makes Bob a copy of his own', async () => {
    const imported = await bob.caller.collections.importByCode({ code });
    expect(imported.collection.id).not.toBe(col.id);
    await bob.caller.collections.updateCard({
      collectionId: imported.collection.id,
      cardId: imported.cards[0]!.id,
      front: 'mine',
    });
    expect((await alice.caller.collections.get({ id: col.id })).cards[0]!.front).toBe(card.front);
  });

  it('covers every collections procedure (events: collections-live.test.ts)', () => {
    const procedures = Object.keys(appRouter._def.procedures).filter((p) => p.startsWith('collections.'));
    const covered = new Set([
      ...Object.keys(attempts).map((n) => n.replace(/ViaOwnCollection$/, '')),
      'list',
      'create',
      'importByCode',
      'events',
    ]);
    expect(procedures.map((p) => p.slice('collections.'.length)).sort()).toEqual([...covered].sort());
  });

  it('needs a session', async () => {
    const anonymous = anonymousCaller(app);
    expect((await rejection(anonymous.collections.list())).code).toBe('UNAUTHORIZED');
    expect((await rejection(anonymous.collections.importByCode({ code }))).code).toBe('UNAUTHORIZED');
    expect((await rejection(anonymous.collections.get({ id: col.id }))).code).toBe('UNAUTHORIZED');
  });
});
