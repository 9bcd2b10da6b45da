import { afterEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../shared/system';
import type { CollectionEvent } from '../../shared/collections';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { httpClient, wsClient } from '../helpers/clients';
import { collect, collectionWithCards, subscribed } from '../helpers/collections';
import { waitFor } from '../helpers/wait';
import { deliver } from '../helpers/inbox';

const app = await createTestApp();
const server = await startTestServer(app);

type Seen = Notification & CollectionEvent;
const open = (path: string) => () => app.stats.subscriptionsByPath()[path] ?? 0;
const openEvents = open('collections.events');
const openNotifications = open('system.notifications');

const subscriptions: { unsubscribe(): void }[] = [];
afterEach(() => {
  for (const s of subscriptions.splice(0)) s.unsubscribe();
});

/** Waits until `types()` is exactly `expected` (a duplicate or a stray event fails it at the end). */
async function typesBecome(types: () => string[], expected: string[]) {
  await waitFor(() => types().length >= expected.length, { what: `events ${expected.join(', ')}` });
  expect(types()).toEqual(expected);
}

/** One browser tab: its own WebSocket, following collections.events. */
async function tab(token: string, lastEventId?: string) {
  const { client, ws } = wsClient(server.url, token);
  const seen = collect<Seen>();
  subscriptions.push(
    await subscribed(openEvents, () =>
      client.collections.events.subscribe(lastEventId ? { lastEventId } : undefined, seen),
    ),
  );
  return { seen, ws, types: () => seen.events.map((e) => e.data.type) };
}

describe('collections.events', () => {
  it('an import in one tab appears once in every tab of the importer, and the owner is told', async () => {
    const teacher = await signUp(app, { name: 'Teacher' });
    const student = await signUp(app, { name: 'Student' });
    const col = await collectionWithCards(teacher.caller, 3);
    const { code } = await teacher.caller.collections.createShareCode({ collectionId: col.id });
    const one = await tab(student.token);
    const two = await tab(student.token);
    const { client: teacherWs } = wsClient(server.url, teacher.token);
    const told = collect<Notification>();
    subscriptions.push(
      await subscribed(openNotifications, () => teacherWs.system.notifications.subscribe(undefined, told)),
    );
    const teacherTab = await tab(teacher.token);

    const imported = await httpClient(server.url, student.token).collections.importByCode.mutate({ code });
    for (const t of [one, two]) {
      await typesBecome(t.types, ['new_collection']);
      const event = t.seen.events[0]!.data;
      expect(event.type === 'new_collection' && event.payload).toMatchObject({
        collection: { id: imported.collection.id, cardCount: 3 },
        message: imported.message,
      });
    }
    await typesBecome(() => told.events.map((e) => e.data.type), ['collection_imported']);
    expect(told.events[0]!.data.payload).toMatchObject({
      collectionId: col.id,
      code,
      uses: 1,
      importerName: 'Student',
      message: expect.stringContaining('Student imported your collection'),
    });

    // A change in either tab reaches both; by the time it arrives, a duplicate import event would have too.
    await student.caller.collections.update({ id: imported.collection.id, title: 'Mine now' });
    await student.caller.collections.remove({ id: imported.collection.id });
    for (const t of [one, two])
      await typesBecome(t.types, ['new_collection', 'collection_updated', 'collection_removed']);
    expect(one.seen.errors).toEqual([]);
    // The owner's notification is not one of the collection events of their own tabs.
    expect(teacherTab.types()).toEqual([]);
  });

  it('resumes from the last event id with exactly what the tab missed', async () => {
    const alice = await signUp(app);
    const first = await tab(alice.token);
    const col = await alice.caller.collections.create({ title: 'One' });
    await typesBecome(first.types, ['new_collection']);
    const lastEventId = first.seen.events[0]!.id;
    const before = openEvents();
    subscriptions.pop()!.unsubscribe();
    await first.ws.close();
    await waitFor(() => openEvents() === before - 1, { what: "the first tab's subscription to end" });

    await alice.caller.collections.addCard({ collectionId: col.id, front: 'missed' });
    await alice.caller.collections.remove({ id: col.id });
    // Entries of other features in the same inbox are not part of this view.
    await deliver(app, [{ userId: alice.user.id, feature: 'test', type: 'ping', payload: {} }]);
    const second = await tab(alice.token, lastEventId);
    await typesBecome(second.types, ['collection_updated', 'collection_removed']);
    const again = await alice.caller.collections.create({ title: 'Two' });
    await typesBecome(second.types, ['collection_updated', 'collection_removed', 'new_collection']);
    expect(second.seen.events.every((e) => Number(e.id) > Number(lastEventId))).toBe(true);
    expect(second.seen.events.at(-1)!.data).toMatchObject({
      type: 'new_collection',
      payload: { collection: { id: again.id } },
    });
  });

  it("sends a user none of another user's collection events", async () => {
    const alice = await signUp(app);
    const bob = await signUp(app);
    const bobTab = await tab(bob.token);
    const aliceTab = await tab(alice.token);
    await alice.caller.collections.create({ title: 'Private' });
    await bob.caller.collections.create({ title: "Bob's" });
    await typesBecome(bobTab.types, ['new_collection']);
    await typesBecome(aliceTab.types, ['new_collection']);
    expect(bobTab.seen.events[0]!.data).toMatchObject({ payload: { collection: { title: "Bob's" } } });
  });
});
