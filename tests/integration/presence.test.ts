import { TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { MAX_ROOMS_PER_USER, type PresenceEvent } from '../../shared/presence';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { converse, type Person } from '../helpers/chat';
import { afterThis } from '../helpers/cleanup';
import { httpClient, wsClient } from '../helpers/clients';
import { BUSES, createEmptyDatabase, startInstance, uniqueChannel, type Instance } from '../helpers/cluster';
import { waitFor } from '../helpers/wait';

/**
 * Presence (issue 22) over real WebSockets, on PGlite and on Postgres: a room's first message is
 * a sync, then joins and leaves (conversation rooms, to participants only) or counts (market and
 * discovery rooms, never a name or an id). One person is one member however many tabs; the last
 * tab closing is the leave. Then two real server processes on one Postgres database, over
 * LISTEN/NOTIFY and over Redis: a join on A reaches B within a second, and an instance that is
 * killed takes its members with it within a few seconds.
 */
const postgres = !!process.env.DATABASE_URL;
const SUBSCRIPTION_CAP = 12;

/** One tab's watch of a room: its own WebSocket, every event in arrival order (with when it came). */
function watchRoom(url: string, token: string, room: string) {
  const { client, ws } = wsClient(url, token);
  const events: PresenceEvent[] = [];
  const at: number[] = [];
  const errors: unknown[] = [];
  const sub = client.presence.watch.subscribe(
    { room },
    {
      onData: (e) => void (events.push(e), at.push(Date.now())),
      onError: (err) => void errors.push(err),
    },
  );
  return {
    events,
    at,
    errors,
    /** Resolves once the sync has come (the watch is in the room). */
    synced: () => waitFor(() => events.length > 0, { what: `the sync of ${room}` }),
    close: async () => {
      sub.unsubscribe();
      await ws.close();
    },
  };
}

const summary = (events: PresenceEvent[]) =>
  events.map((e) =>
    e.type === 'sync'
      ? `sync ${e.count}${'members' in e ? ` [${e.members.map((m) => m.name).join(', ')}]` : ''}`
      : e.type === 'count'
        ? `count ${e.count}`
        : `${e.type} ${e.member.name} ${e.count}`,
  );

describe('presence over real WebSockets', async () => {
  const app = await createTestApp({ WS_MAX_SUBSCRIPTIONS_PER_USER: String(SUBSCRIPTION_CAP) });
  const server = await startTestServer(app);
  const ann: Person = await signUp(app, { name: 'Ann Presence' });
  const bob: Person = await signUp(app, { name: 'Bob Presence' });
  const cat: Person = await signUp(app, { name: 'Cat Outsider' });
  const conversationId = await converse(ann, bob);
  const room = `conversation:${conversationId}`;

  it('a conversation room syncs, then tells joins and leaves; two tabs of one person are one member, who leaves with the last', async () => {
    const annTab = watchRoom(server.url, ann.token, room);
    await annTab.synced();
    expect(annTab.events[0]).toMatchObject({
      type: 'sync',
      count: 1,
      truncated: false,
      members: [{ userId: ann.user.id, name: 'Ann Presence', since: expect.any(Date) }],
    });

    const bob1 = watchRoom(server.url, bob.token, room);
    await bob1.synced();
    expect(summary(bob1.events)).toEqual(['sync 2 [Ann Presence, Bob Presence]']);
    await waitFor(() => annTab.events.length === 2, { what: "Bob's join" });
    expect(annTab.events[1]).toMatchObject({
      type: 'join',
      count: 2,
      member: { userId: bob.user.id, name: 'Bob Presence' },
    });

    // A second tab of Bob's is no second member; closing his first is no leave while the second is open.
    const bob2 = watchRoom(server.url, bob.token, room);
    await bob2.synced();
    expect(summary(bob2.events)).toEqual(['sync 2 [Ann Presence, Bob Presence]']);
    await bob1.close();
    await waitFor(() => (app.stats.subscriptionsByPath()['presence.watch'] ?? 0) === 2, { what: 'the first tab gone' });
    await bob2.close();
    await waitFor(() => annTab.events.length === 3, { what: "Bob's leave" });
    // Exactly these: had the second tab joined or the first tab left, it would be here, before the leave.
    expect(summary(annTab.events)).toEqual(['sync 1 [Ann Presence]', 'join Bob Presence 2', 'leave Bob Presence 1']);
    await annTab.close();
    await waitFor(() => app.presence.sizes().keys === 0, { what: 'the room to be forgotten' });
    expect(app.presence.sizes()).toMatchObject({ keys: 0, localKeys: 0, localMembers: 0, listenedKeys: 0 });
    expect(annTab.errors).toEqual([]);
  });

  it('someone not in the conversation cannot watch it (NOT_FOUND, as from every chat procedure) and is never shown in it', async () => {
    const annTab = watchRoom(server.url, ann.token, room);
    await annTab.synced();
    const intruder = watchRoom(server.url, cat.token, room);
    await waitFor(() => intruder.errors.length > 0, { what: 'the refusal' });
    const err = intruder.errors[0] as TRPCClientError<never>;
    expect(err.data).toMatchObject({ code: 'NOT_FOUND' });
    expect(err.message).toBe(`No conversation ${conversationId} among yours: open one from your conversation list.`);
    expect(intruder.events).toEqual([]);
    // A conversation that does not exist reads the same as someone else's.
    await expect(cat.caller.presence.watch({ room: 'conversation:999999' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    // Bob's join comes after Cat's attempt: had Cat been let in, Ann would have seen it first.
    const bobTab = watchRoom(server.url, bob.token, room);
    await bobTab.synced();
    await waitFor(() => annTab.events.length === 2, { what: "Bob's join" });
    expect(summary(annTab.events)).toEqual(['sync 1 [Ann Presence]', 'join Bob Presence 2']);
    await Promise.all([annTab.close(), bobTab.close(), intruder.close()]);
  });

  it('market and discovery rooms send counts only, never a name or an id; tabs of one person count once', async () => {
    for (const [first, again] of [
      ['market:BTCUSDT:1m', 'market:btcusdt:1m'],
      ['discovery', 'discovery'],
    ] as const) {
      const annTab = watchRoom(server.url, ann.token, first);
      await annTab.synced();
      expect(annTab.events[0]).toEqual({ type: 'sync', count: 1 });
      const bobTab = watchRoom(server.url, bob.token, again);
      await bobTab.synced();
      expect(bobTab.events[0]).toEqual({ type: 'sync', count: 2 });
      await waitFor(() => annTab.events.at(-1)?.type === 'count' && annTab.events.at(-1)!.count === 2, {
        what: 'the count to reach 2',
      });
      const bobAgain = watchRoom(server.url, bob.token, first);
      await bobAgain.synced();
      expect(bobAgain.events[0]).toEqual({ type: 'sync', count: 2 });
      const catTab = watchRoom(server.url, cat.token, first);
      await catTab.synced();
      await waitFor(() => annTab.events.at(-1)?.count === 3, { what: 'the count to reach 3' });
      await Promise.all([bobTab.close(), bobAgain.close(), catTab.close()]);
      await waitFor(() => annTab.events.at(-1)?.count === 1, { what: 'the count back to 1' });
      // Every event is { type, count } and nothing else: no name, no id of anyone.
      const all = [...annTab.events, ...bobTab.events, ...bobAgain.events, ...catTab.events];
      for (const e of all) expect(Object.keys(e).sort()).toEqual(['count', 'type']);
      const text = superjson.stringify(all);
      for (const p of [ann, bob, cat]) {
        expect(text).not.toContain(p.user.id);
        expect(text).not.toContain(p.user.name);
      }
      // Bob's second tab never made a count of 3 before Cat came: counts went 1, 2, 3, then down.
      const counts = annTab.events.map((e) => e.count);
      expect(counts.slice(0, counts.indexOf(3) + 1)).toEqual([1, 2, 3]);
      await annTab.close();
    }
    // Nothing of a counted room is kept once its watchers are gone, and no name was ever stored for one.
    await waitFor(() => app.presence.sizes().keys === 0 && app.presence.sizes().countedRooms === 0, {
      what: 'the rooms to be forgotten',
    });
  });

  it('bad room input is refused with a sentence saying what a room looks like', async () => {
    const cases: [string, RegExp][] = [
      ['', /^Give a room\. A room is conversation:<id>, market:<SYMBOL>:<timeframe>/],
      ['lobby', /^No such room\. A room is conversation:<id>/],
      ['conversation:abc', /^A conversation room is conversation:<id>, with the conversation id/],
      ['conversation:0', /^A conversation room is conversation:<id>/],
      ['market:BTCUSDT', /^A market room is market:<SYMBOL>:<timeframe>, like market:BTCUSDT:1m\.$/],
      ['market:BTCUSDT:2m', /^A market room’s timeframe must be one of 1m, 5m, 15m, 1h, 4h, 1d\.$/],
      ['market:B$:1m', /^A market room’s symbol is 5 to 20 letters or digits/],
      ['discovery:extra', /^The discovery room takes nothing after its name\./],
      ['x'.repeat(61), /^Room names are at most 60 characters\./],
    ];
    // Over the WebSocket, as the web app sends it: the message is the sentence the client shows.
    const { client } = wsClient(server.url, ann.token);
    const refusals = await Promise.all(
      cases.map(
        ([room]) =>
          new Promise<TRPCClientError<never>>((resolve, reject) =>
            client.presence.watch.subscribe(
              { room },
              { onData: () => reject(new Error(`${room} was accepted`)), onError: (err) => resolve(err as never) },
            ),
          ),
      ),
    );
    refusals.forEach((err, i) => {
      const [room, message] = cases[i]!;
      expect(err.data, room).toMatchObject({ code: 'BAD_REQUEST' });
      expect(err.message, room).toMatch(message);
    });
  });

  it('counts against the per-user subscription cap, and bounds the rooms one person is in', async () => {
    // Over one socket: the cap of open subscriptions per account holds for presence as for the rest.
    const dan = await signUp(app, { name: 'Dan Many' });
    const { client } = wsClient(server.url, dan.token);
    const errors: unknown[] = [];
    const opened: number[] = [];
    for (let i = 0; i <= SUBSCRIPTION_CAP; i++)
      client.presence.watch.subscribe(
        { room: `market:SYM${String(i).padStart(3, '0')}:1m` },
        { onData: () => void opened.push(i), onError: (err) => void errors.push(err) },
      );
    await waitFor(() => opened.length + errors.length === SUBSCRIPTION_CAP + 1, { what: 'every answer' });
    expect(opened).toHaveLength(SUBSCRIPTION_CAP);
    expect((errors[0] as TRPCClientError<never>).data).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect((errors[0] as Error).message).toMatch(/^Too many open subscriptions for one account/);

    // Rooms per person (all tabs together), whatever the transport: here through the caller.
    const eve = await signUp(app, { name: 'Eve Rooms' });
    const iterators: AsyncIterator<PresenceEvent>[] = [];
    for (let i = 0; i < MAX_ROOMS_PER_USER; i++) {
      const it = (await eve.caller.presence.watch({ room: `market:ROOM${String(i).padStart(3, '0')}:5m` }))[
        Symbol.asyncIterator
      ]();
      expect((await it.next()).value).toEqual({ type: 'sync', count: 1 });
      iterators.push(it);
    }
    // Another watch of a room she is in already is no new room.
    const again = (await eve.caller.presence.watch({ room: 'market:ROOM000:5m' }))[Symbol.asyncIterator]();
    expect((await again.next()).value).toEqual({ type: 'sync', count: 1 });
    const past = (await eve.caller.presence.watch({ room: 'discovery' }))[Symbol.asyncIterator]();
    await expect(past.next()).rejects.toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      message: `You are in too many rooms at once (at most ${MAX_ROOMS_PER_USER}): close some tabs or views, then try again.`,
    });
    for (const it of [...iterators, again]) await it.return?.();
    const freed = (await eve.caller.presence.watch({ room: 'discovery' }))[Symbol.asyncIterator]();
    expect((await freed.next()).value).toEqual({ type: 'sync', count: 1 });
    await freed.return?.();
  });

  it('signing out ends the watch, and the person leaves the room', async () => {
    const fay = await signUp(app, { name: 'Fay Leaving' });
    const gus = await signUp(app, { name: 'Gus Staying' });
    const shared = `conversation:${await converse(fay, gus)}`;
    const gusTab = watchRoom(server.url, gus.token, shared);
    await gusTab.synced();
    const fayTab = watchRoom(server.url, fay.token, shared);
    await fayTab.synced();
    await waitFor(() => gusTab.events.length === 2, { what: "Fay's join" });
    await fay.caller.auth.signOut();
    await waitFor(() => fayTab.errors.length > 0, { what: "the end of Fay's watch" });
    expect((fayTab.errors[0] as TRPCClientError<never>).data).toMatchObject({ code: 'UNAUTHORIZED' });
    await waitFor(() => gusTab.events.length === 3, { what: "Fay's leave" });
    expect(summary(gusTab.events)).toEqual(['sync 1 [Gus Staying]', 'join Fay Leaving 2', 'leave Fay Leaving 1']);
    await Promise.all([gusTab.close(), fayTab.close()]);
  });
});

async function signUpOver(url: string, who: string) {
  const { user, token } = await httpClient(url).auth.signUp.mutate({
    email: `${who}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}@example.com`,
    password: 'presence password',
    name: who,
  });
  return { user, token, http: httpClient(url, token) };
}

describe.skipIf(!postgres)(
  'presence on two instances (skipped on PGlite: one embedded database is one process)',
  () => {
    describe.each(BUSES)('over $bus', ({ env }) => {
      it('a join on A is seen on B within 1 s; a person on both is one member; killing A makes its members leave within a few seconds', async () => {
        const database = await createEmptyDatabase();
        // Not afterAll: vitest never runs one registered inside a test (tests/helpers/cleanup.ts).
        afterThis(() => database.close());
        const common = {
          DATABASE_URL: database.url,
          BUS_CHANNEL: uniqueChannel(),
          VAULT_AUTO_REFRESH_ENABLED: 'false',
          ...env,
        };
        const [a, b]: [Instance, Instance] = await Promise.all([
          startInstance('a', common),
          startInstance('b', common),
        ]);
        const una = await signUpOver(b.url, 'Una');
        const vic = await signUpOver(a.url, 'Vic');
        const { invitationId } = await una.http.chat.invite.mutate({ toUserId: vic.user.id });
        const { conversationId } = await vic.http.chat.respond.mutate({ invitationId, action: 'accept' });
        const room = `conversation:${conversationId!}`;

        // Una watches on B: the conversation and the discovery page.
        const unaRoom = watchRoom(b.url, una.token, room);
        const unaDiscovery = watchRoom(b.url, una.token, 'discovery');
        await Promise.all([unaRoom.synced(), unaDiscovery.synced()]);

        // Vic on A, on a socket already open (its connection set up), so the clock times the join alone.
        const { client: vicOnA } = wsClient(a.url, vic.token);
        const warm: PresenceEvent[] = [];
        const warmSub = vicOnA.presence.watch.subscribe({ room: 'discovery' }, { onData: (e) => void warm.push(e) });
        await waitFor(() => warm.length > 0, { what: "Vic's discovery sync on A" });
        await waitFor(() => unaDiscovery.events.at(-1)?.count === 2, { what: 'B to count Vic on discovery' });
        const vicEvents: PresenceEvent[] = [];
        let vicInAt = 0;
        vicOnA.presence.watch.subscribe(
          { room },
          { onData: (e) => void (vicEvents.push(e), (vicInAt ||= Date.now())) },
        );
        await waitFor(() => unaRoom.events.length === 2 && vicEvents.length > 0, { what: "Vic's join, seen on B" });
        // From A letting Vic in (his sync, sent just after A announced him) to Una's client on B hearing it.
        expect(unaRoom.at[1]! - vicInAt).toBeLessThan(1_000);
        expect(summary(unaRoom.events)).toEqual(['sync 1 [Una]', 'join Vic 2']);
        expect(summary(vicEvents)).toEqual(['sync 2 [Una, Vic]']);

        // Vic on B too, then gone from B: still one member, present through A, no leave.
        const vicOnB = watchRoom(b.url, vic.token, room);
        await vicOnB.synced();
        expect(summary(vicOnB.events)).toEqual(['sync 2 [Una, Vic]']);
        await vicOnB.close();

        // A dies without a word: B drops what A held within a few seconds (three heartbeats).
        const killedAt = Date.now();
        a.child.kill('SIGKILL');
        await a.exited;
        await waitFor(() => unaRoom.events.length === 3, { what: "Vic's leave after A died" });
        expect(unaRoom.at[2]! - killedAt).toBeLessThan(8_000);
        expect(summary(unaRoom.events)).toEqual(['sync 1 [Una]', 'join Vic 2', 'leave Vic 1']);
        await waitFor(() => unaDiscovery.events.at(-1)?.count === 1, { what: 'the discovery count back to 1' });
        warmSub.unsubscribe();
        await Promise.all([unaRoom.close(), unaDiscovery.close()]);
      });
    });
  },
);
