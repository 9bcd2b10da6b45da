import { randomUUID } from 'node:crypto';
import superjson from 'superjson';
import { TRPCError } from '@trpc/server';
import { afterAll, describe, expect, it } from 'vitest';
import { appRouter } from '../../server/router';
import { adminProcedure } from '../../server/trpc';
import { signUp, type Caller } from '../helpers/app';
import { converse } from '../helpers/chat';
import { collectionWithCards } from '../helpers/collections';
import { marketTestApp, until, eagerStrategy } from '../helpers/market';
import { rowChanges, rowCounts } from '../helpers/row-counts';
import { getAt, sample, setAt, walkRouter, type WalkedProcedure } from '../helpers/router-walk';
import { waitFor } from '../helpers/wait';

// The isolation matrix, generated from the router: Alice has data in every feature, Bob calls
// every procedure with Alice's ids in every id-like field, and listens on every subscription
// (live and replaying from Alice's event ids). Every call is NOT_FOUND or FORBIDDEN or shows
// none of Alice's data; nothing of Alice's changes; no event of Alice's reaches Bob. The only
// hand-written part is ID_SOURCES: where each kind of id comes from (a real row of Alice's).
// An id-like field with no entry fails the test by name, so a new procedure cannot slip by.

const { app, fake } = await marketTestApp();
const admin = await signUp(app, { name: 'Admin' });
const alice = await signUp(app, { name: 'Alice' });
const bob = await signUp(app, { name: 'Bob' });
const carol = await signUp(app, { name: 'Carol' });
const dave = await signUp(app, { name: 'Dave' });
expect([admin.user, alice.user, bob.user]).toMatchObject([{ role: 'admin' }, { role: 'user' }, { role: 'user' }]);

// In everything private of Alice's (and in nothing of Bob's): finding it in Bob's answers is a leak.
const MARK = `secret${randomUUID().slice(0, 8)}`;
const has = (value: unknown) => superjson.stringify(value).includes(MARK);

const call = (caller: Caller, path: string, input: unknown) =>
  (getAt(caller, path.split('.')) as (i: unknown) => Promise<unknown>)(input);

/** A subscription through the caller, collecting what it yields until stopped. */
function listen(caller: Caller, path: string, input: unknown) {
  const events: { id?: string; data: unknown }[] = [];
  const state: { error?: unknown; iterator?: AsyncIterator<unknown> } = {};
  const done = (async () => {
    try {
      const iterable = (await call(caller, path, input)) as AsyncIterable<unknown>;
      state.iterator = iterable[Symbol.asyncIterator]();
      for (;;) {
        const next = await state.iterator.next();
        if (next.done) return;
        // Through createCaller a tracked event arrives as its [id, data, …] envelope.
        const e = next.value;
        events.push(Array.isArray(e) ? { id: String(e[0]), data: e[1] } : { data: e });
      }
    } catch (err) {
      state.error = err;
    }
  })();
  // A caller's subscription has no client to hang up: ask it to end, and let the app's close
  // end whatever is still waiting for an event.
  const stop = () => {
    void state.iterator?.return?.();
    return Promise.resolve();
  };
  void done;
  stopAll.push(stop);
  return { events, state, stop };
}
const stopAll: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stopAll) await stop();
});

const procedures = walkRouter(appRouter);
const subscriptions = procedures.filter((p) => p.type === 'subscription');
const inputFor = (p: WalkedProcedure, fields: Record<string, unknown> = {}) => {
  if (!p.schema) return undefined;
  let value = sample(p.schema).value;
  for (const [field, v] of Object.entries(fields)) value = setAt(value, [field], v);
  return value;
};

// Alice listens to every stream first, so her own events (and their ids) are recorded.
const aliceStreams = new Map(
  subscriptions.map((p) => [p.path, listen(alice.caller, p.path, inputFor(p, { lastEventId: undefined }))]),
);

// --- Alice's data, in every feature -----------------------------------------------------------
const conversationId = await converse(alice, carol);
const aliceMessage = await alice.caller.chat.send({ conversationId, content: `${MARK} from Alice` });
await carol.caller.chat.send({ conversationId, content: `${MARK} to Alice` });
const invitation = await alice.caller.chat.invite({ toUserId: dave.user.id, message: `${MARK} join me` });
const collection = await collectionWithCards(alice.caller, 2, `${MARK} collection`);
const card = (await alice.caller.collections.get({ id: collection.id })).cards[0]!;
const { code } = await alice.caller.collections.createShareCode({ collectionId: collection.id });
const strategy = await alice.caller.market.strategies.create(eagerStrategy(`${MARK} scalper`));
const alert = await alice.caller.market.alerts.create({
  symbol: 'BTCUSDT',
  timeframe: '1d',
  condition: { type: 'price_below', value: 1 },
});
const release = app.market.feed.watch('BTCUSDT', '1m');
afterAll(() => release());
await until(() => fake.subscriptions().includes('btcusdt@kline_1m'), 'the upstream subscription');
for (let i = 0; i < 4 && !(await alice.caller.market.trades({})).items.length; i++) {
  fake.advance(60_000);
  await until(
    async () =>
      (await app.market.store.latest('BTCUSDT', '1m', 1))[0]?.candle.openTime ===
      Math.floor(fake.now / 60_000) * 60_000 - 60_000,
    'the candle',
  );
  await app.market.hub.settled('BTCUSDT', '1m');
}
const trade = await until(async () => (await alice.caller.market.trades({})).items[0], 'a trade of Alice');

// Bob has data of his own, so his lists are not empty by accident.
const bobConversation = await converse(bob, carol);
await bob.caller.chat.send({ conversationId: bobConversation, content: 'Bob here' });
await bob.caller.collections.create({ title: 'Bob collection' });

/**
 * Where each kind of id comes from, by `<procedure path or prefix>.<field>` (most specific
 * first), or `null` with a reason when the id is meant to be used by others.
 */
const ID_SOURCES: Record<string, unknown> = {
  'chat.invitationId': invitation.invitationId,
  'chat.conversationId': conversationId,
  'chat.messageId': aliceMessage.message.id,
  // An idempotency key: Bob reusing Alice's must not get her message back.
  'chat.clientId': aliceMessage.message.clientId,
  'chat.messages.cursor': aliceMessage.message.id,
  'chat.invitations.cursor': invitation.invitationId,
  'chat.conversations.cursor': `${Date.now() + 60_000}:${conversationId}`,
  'collections.id': collection.id,
  'collections.collectionId': collection.id,
  'collections.cardId': card.id,
  'collections.cardIds': [card.id],
  'collections.code': code,
  'collections.list.cursor': collection.id + 1,
  // The cursor of Alice's first card: with her collection id it would page her second card.
  'collections.get.cursor': `${card.position}:${card.id}`,
  'market.strategies.id': strategy.id,
  'market.strategies.list.cursor': strategy.id + 1,
  'market.alerts.id': alert.id,
  // Just below Alice's alert: a list that forgot its owner filter would start with it.
  'market.alerts.list.cursor': Math.max(1, alert.id - 1),
  'market.trades.cursor': trade.id + 1,
  // Administrators only: Bob is refused before any id is looked at (asserted below).
  'vault.sessionId': 1,
};
const PUBLIC: Record<string, string> = {
  'chat.invite.toUserId': 'inviting another person by id is the feature (users.search finds them)',
  'chat.relations.userIds':
    "people found by users.search; the answer is the caller's own conversation or invitation with each",
  'collections.importByCode.code': 'a share code is handed out to be used by others',
  'discovery.scanTokens.scanId':
    'scans are shared: one scan for everyone, joined from every browser, over public market data',
};
const ID_LIKE = /^(id|cursor|code|lastEventId)$|Ids?$/;

function idFields(p: WalkedProcedure): string[] {
  const props = p.schema && typeof p.schema !== 'boolean' ? Object.keys(p.schema.properties ?? {}) : [];
  return props.filter((f) => ID_LIKE.test(f));
}

function sourceOf(path: string, field: string): { found: true; value: unknown } | { found: false } {
  const parts = path.split('.');
  for (let n = parts.length; n > 0; n--) {
    const key = `${parts.slice(0, n).join('.')}.${field}`;
    if (key in ID_SOURCES) return { found: true, value: ID_SOURCES[key] };
  }
  return { found: false };
}

const adminCheck = adminProcedure._def.middlewares.at(-1);
const adminOnly = (p: WalkedProcedure) =>
  (p.procedure._def as unknown as { middlewares: unknown[] }).middlewares.includes(adminCheck);
const refusedCode = (err: unknown) => (err instanceof TRPCError ? err.code : `not a TRPCError: ${String(err)}`);

describe("Bob with Alice's ids, on every procedure of the router", () => {
  it("has data of Alice's to find in every feature", async () => {
    expect(has(await alice.caller.chat.messages({ conversationId }))).toBe(true);
    expect(has(await alice.caller.collections.list({}))).toBe(true);
    expect(has(await alice.caller.market.trades({}))).toBe(true);
    expect(has(await alice.caller.chat.invitations({ direction: 'outgoing' }))).toBe(true);
  });

  it("knows where every id-like field's ids come from", () => {
    const unknown = procedures
      .filter((p) => p.type !== 'subscription')
      .flatMap((p) =>
        idFields(p)
          .filter((f) => f !== 'lastEventId' && !PUBLIC[`${p.path}.${f}`] && !sourceOf(p.path, f).found)
          .map((f) => `${p.path}.${f}`),
      );
    expect(unknown, 'add each to ID_SOURCES in tests/integration/isolation.test.ts').toEqual([]);
  });

  for (const p of procedures.filter((p) => p.type !== 'subscription')) {
    const fields = idFields(p).filter((f) => !PUBLIC[`${p.path}.${f}`]);
    const publicFields = idFields(p).filter((f) => PUBLIC[`${p.path}.${f}`]);
    const admins = adminOnly(p);
    // Without an id, a mutation acts on the caller's own data; nothing of Alice's to aim at.
    if (!admins && p.type === 'mutation' && !fields.length) continue;
    const label = admins
      ? 'is refused to a non-administrator'
      : fields.length
        ? `with Alice's ${fields.join(', ')}`
        : "shows none of Alice's data";
    it(`${p.path} (${p.type}) ${label}${publicFields.length ? ` (public: ${publicFields.map((f) => `${f}, ${PUBLIC[`${p.path}.${f}`]}`).join('; ')})` : ''}`, async () => {
      const ids = Object.fromEntries(fields.map((f) => [f, (sourceOf(p.path, f) as { value: unknown }).value]));
      const input = inputFor(p, ids);
      if (p.parser) {
        const parsed = p.parser.safeParse(input);
        expect(parsed.success, `the input built for ${p.path} is invalid: ${parsed.error?.message}`).toBe(true);
      }
      const before = await rowCounts(app);
      const outcome = await call(bob.caller, p.path, input).then(
        (value) => ({ ok: true as const, value }),
        (err: unknown) => ({ ok: false as const, code: refusedCode(err) }),
      );
      if (admins) expect(outcome).toEqual({ ok: false, code: 'FORBIDDEN' });
      else if (p.type === 'mutation')
        expect(outcome).toMatchObject({ ok: false, code: expect.stringMatching(/^(NOT_FOUND|FORBIDDEN)$/) });
      else if (outcome.ok)
        expect(
          has(outcome.value),
          `Bob's answer carries Alice's data: ${superjson.stringify(outcome.value).slice(0, 300)}`,
        ).toBe(false);
      else expect(outcome.code).toMatch(/^(NOT_FOUND|FORBIDDEN)$/);
      expect(rowChanges(before, await rowCounts(app))).toEqual([]);
    });
  }
});

describe('idempotency keys', () => {
  it("Bob sending with Alice's clientId in his own conversation gets his own message, not hers", async () => {
    const sent = await bob.caller.chat.send({
      conversationId: bobConversation,
      content: 'mine',
      clientId: aliceMessage.message.clientId,
    });
    expect(sent.message).toMatchObject({ conversationId: bobConversation, senderId: bob.user.id, content: 'mine' });
    expect(has(sent)).toBe(false);
  });
});

describe("Bob on every subscription, live and replaying from Alice's event ids", () => {
  it("gets none of Alice's events", { timeout: 120_000 }, async () => {
    const bobStreams = subscriptions.flatMap((p) => {
      const ownIds = aliceStreams.get(p.path)!.events.flatMap((e) => (e.id ? [e.id] : []));
      const live = {
        path: p.path,
        how: 'live',
        ...listen(bob.caller, p.path, inputFor(p, { lastEventId: undefined })),
      };
      if (!idFields(p).includes('lastEventId')) return [live];
      // Replays from Alice's first and last event ids, and from the start of the stream.
      const from = [...new Set([ownIds[0], ownIds.at(-1), '1'].filter((id): id is string => id !== undefined))];
      return [
        live,
        ...from.map((id) => ({
          path: p.path,
          how: `replay after ${id}`,
          ...listen(bob.caller, p.path, inputFor(p, { lastEventId: id })),
        })),
      ];
    });
    // Alice's streams did record her events, so the ids above are real ones.
    for (const path of ['chat.events', 'collections.events', 'market.activity', 'system.notifications']) {
      if (aliceStreams.has(path))
        expect(
          aliceStreams.get(path)!.events.some((e) => has(e.data)),
          `Alice's own ${path}`,
        ).toBe(true);
    }

    // More of Alice's activity while Bob listens, then a barrier of Bob's own on the streams
    // that carry his events: once his arrive, Alice's (sent earlier) would have too.
    const extra = await alice.caller.chat.send({ conversationId, content: `${MARK} while Bob listens` });
    await alice.caller.collections.update({ id: collection.id, title: `${MARK} renamed` });
    await waitFor(
      () =>
        aliceStreams
          .get('chat.events')
          ?.events.some((e) => superjson.stringify(e.data).includes(String(extra.message.id))),
      { what: "Alice's own live event" },
    );
    await carol.caller.chat.send({ conversationId: bobConversation, content: 'barrier for Bob' });
    const own = await bob.caller.collections.create({ title: 'Bob barrier' });
    await waitFor(
      () =>
        bobStreams
          .filter((s) => s.path === 'chat.events' && s.how === 'live')
          .every((s) => s.events.some((e) => superjson.stringify(e.data).includes('barrier for Bob'))) &&
        bobStreams
          .filter((s) => s.path === 'collections.events' && s.how === 'live')
          .every((s) => s.events.some((e) => superjson.stringify(e.data).includes(String(own.id)))),
      { what: "Bob's own events on his live streams" },
    );

    const report = bobStreams.map((s) => ({
      stream: `${s.path} ${s.how}`,
      leaked: s.events.filter((e) => has(e.data)).length,
      refused: s.state.error ? refusedCode(s.state.error) : null,
    }));
    expect(report.filter((r) => r.leaked > 0)).toEqual([]);
    // A stream Bob may not open (administrators only) is refused, not silently empty.
    for (const r of report) if (r.refused !== null) expect(r.refused, r.stream).toBe('FORBIDDEN');
    for (const p of subscriptions.filter(adminOnly))
      expect(report.filter((r) => r.stream.startsWith(`${p.path} `)).every((r) => r.refused === 'FORBIDDEN')).toBe(
        true,
      );
  });
});
