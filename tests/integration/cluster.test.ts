import { describe, expect, it, onTestFinished } from 'vitest';
import { FakeBinance } from '../../server/demo/binance';
import { isResumePointMessage } from '../../shared/system';
import { httpClient, wsClient } from '../helpers/clients';
import { startFakes } from '../helpers/discovery';
import { BUSES, createEmptyDatabase, startInstance, uniqueChannel, type Instance } from '../helpers/cluster';
import { FAKE_START, untilViewersLive } from '../helpers/market';
import { waitFor } from '../helpers/wait';

/**
 * Two real server processes on one fresh Postgres database: what is published on B reaches a
 * client of A in order and once, and a client moving from A to B with its last id misses
 * nothing. Once with LISTEN/NOTIFY, once with Redis pub/sub (REDIS_URL, started by .ci/run).
 */
const postgres = !!process.env.DATABASE_URL;

interface Got {
  id?: string;
  data: unknown;
}

/** A subscription's events, kept in arrival order. */
function recorder() {
  const got: Got[] = [];
  const errors: unknown[] = [];
  return {
    got,
    errors,
    ids: () => got.flatMap((e) => (e.id === undefined ? [] : [Number(e.id)])),
    // A resumable stream's first message is its resume point (no event): left out.
    handlers: {
      onData: (e: unknown) => void (isResumePointMessage(e) || got.push(e as Got)),
      onError: (err: unknown) => void errors.push(err),
    },
  };
}

/** Strictly increasing: in order, and no event twice. */
const inOrderOnce = (ids: number[]) => ids.every((id, i) => i === 0 || id > ids[i - 1]!);

async function signUp(url: string, who: string) {
  const { user, token } = await httpClient(url).auth.signUp.mutate({
    email: `${who}-${Date.now()}@example.com`,
    password: 'cluster password',
    name: who,
  });
  return { user, token, http: httpClient(url, token) };
}

describe.skipIf(!postgres)(
  'two instances on one Postgres (skipped on PGlite: one embedded database is one process)',
  () => {
    describe.each(BUSES)('over $bus', ({ env }) => {
      it('delivers inbox, chat, discovery and candle events published on B to a client of A, in order and once; a client moving from A to B misses nothing', async () => {
        // Empty: both instances migrate it as they start, together.
        const database = await createEmptyDatabase();
        onTestFinished(() => database.close());
        const binance = await FakeBinance.start({ start: FAKE_START });
        onTestFinished(() => binance.close());
        const fakes = await startFakes({ dex: { initial: 6, newPerCall: 2 } });
        const common = {
          DATABASE_URL: database.url,
          BUS_CHANNEL: uniqueChannel(),
          UPSTREAMS: 'live',
          ...fakes.env,
          ...binance.env,
          MARKET_RECONNECT_MIN_MS: '20',
          MARKET_RECONNECT_MAX_MS: '200',
          MARKET_SYMBOL_GRACE_MS: '100',
          VAULT_AUTO_REFRESH_ENABLED: 'false',
          ...env,
        };
        const [a, b]: [Instance, Instance] = await Promise.all([
          startInstance('a', common),
          startInstance('b', common),
        ]);

        const u = await signUp(a.url, 'ursula');
        const v = await signUp(b.url, 'victor');
        const onA = wsClient(a.url, u.token).client;
        const onB = wsClient(b.url, v.token).client;

        // u's inbox on A twice: one stays, one will move to B; u's chat view; discovery; a series.
        const inbox = recorder();
        const mover = recorder();
        const chat = recorder();
        const discoveryA = recorder();
        const discoveryB = recorder();
        const candlesA = recorder();
        const candlesB = recorder();
        const started: Promise<void>[] = [];
        const ready = () => {
          let done!: () => void;
          started.push(new Promise<void>((r) => (done = r)));
          return { onStarted: () => done() };
        };
        onA.system.notifications.subscribe(undefined, { ...inbox.handlers, ...ready() });
        const moving = onA.system.notifications.subscribe(undefined, { ...mover.handlers, ...ready() });
        onA.chat.events.subscribe(undefined, { ...chat.handlers, ...ready() });
        onA.discovery.events.subscribe(undefined, { ...discoveryA.handlers, ...ready() });
        onB.discovery.events.subscribe(undefined, { ...discoveryB.handlers, ...ready() });
        onA.market.live.subscribe({ symbol: 'BTCUSDT', timeframe: '1m' }, { ...candlesA.handlers, ...ready() });
        onB.market.live.subscribe({ symbol: 'BTCUSDT', timeframe: '1m' }, { ...candlesB.handlers, ...ready() });
        await Promise.all(started);

        // Chat, all written through B: an invitation, its acceptance, three messages.
        const { invitationId } = await v.http.chat.invite.mutate({ toUserId: u.user.id });
        const uOnB = httpClient(b.url, u.token);
        const { conversationId } = await uOnB.chat.respond.mutate({ invitationId, action: 'accept' });
        for (const content of ['one', 'two', 'three'])
          await v.http.chat.send.mutate({ conversationId: conversationId!, content });
        const contents = (r: ReturnType<typeof recorder>) =>
          r.got.flatMap((e) => {
            const d = e.data as {
              type: string;
              payload?: { message?: { content: string } };
              message?: { content: string };
            };
            const m = d.payload?.message ?? d.message;
            return d.type === 'new_message' && m ? [m.content] : [];
          });
        await waitFor(() => contents(chat).length === 3, { what: 'three chat messages on A' });
        expect(contents(chat)).toEqual(['one', 'two', 'three']);
        expect(inOrderOnce(chat.ids())).toBe(true);

        // The inbox on A (all of u's notifications) in order, once; the second copy saw the same.
        await waitFor(() => inbox.got.filter((e) => (e.data as { type: string }).type === 'new_message').length === 3, {
          what: 'three message notifications on A',
        });
        expect(inOrderOnce(inbox.ids())).toBe(true);
        expect(mover.ids()).toEqual(inbox.ids());

        // Discovery: a scan started on B; A's client gets the same events as B's, in the same order.
        const { scanId } = await v.http.discovery.trigger.mutate({ maxTokens: 5 });
        const completed = (r: ReturnType<typeof recorder>) =>
          r.got.some(
            (e) =>
              (e.data as { type: string; scanId?: number }).type === 'scan_completed' &&
              (e.data as { scanId: number }).scanId === scanId,
          );
        await waitFor(() => completed(discoveryA) && completed(discoveryB), {
          what: `scan ${scanId} completed on both`,
        });
        expect(discoveryA.ids().length).toBeGreaterThan(2);
        expect(discoveryA.got.some((e) => (e.data as { type: string }).type === 'new_token')).toBe(true);
        expect(discoveryA.ids()).toEqual(discoveryB.ids());
        expect(inOrderOnce(discoveryA.ids())).toBe(true);

        // Candles: one instance holds the exchange connection (one in the cluster), so the other's
        // client gets them over the bus; both see the same closed candles.
        const closed = (r: ReturnType<typeof recorder>) =>
          r.got
            .filter((e) => e.id !== undefined)
            .map((e) => (e.data as { candle: { openTime: number } }).candle.openTime);
        const before = closed(candlesB).length;
        await waitFor(() => binance.subscriptions().includes('btcusdt@kline_1m'), {
          what: 'the series subscribed upstream',
        });
        const forming = (r: ReturnType<typeof recorder>) => () => r.got.some((e) => e.id === undefined);
        await untilViewersLive(binance, [forming(candlesA), forming(candlesB)]);
        for (let i = 0; i < 3; i++) {
          binance.advance(60_000);
          await waitFor(() => closed(candlesB).length >= before + i + 1 && closed(candlesA).length >= before + i + 1, {
            what: `closed candle ${i + 1} on both`,
          });
        }
        await waitFor(() => closed(candlesA).length >= closed(candlesB).length, {
          what: 'the same closed candles on A',
        });
        expect(candlesA.ids()).toEqual(candlesB.ids());
        expect(inOrderOnce(candlesA.ids())).toBe(true);
        expect(binance.openConnections).toBe(1);

        // Moving: the mover leaves A with its last id; messages go on meanwhile (on B and on A);
        // it comes back on B and must get exactly what the client that stayed on A got.
        const lastId = mover.got.at(-1)!.id!;
        moving.unsubscribe();
        await v.http.chat.send.mutate({ conversationId: conversationId!, content: 'four' });
        await httpClient(a.url, v.token).chat.send.mutate({ conversationId: conversationId!, content: 'five' });
        const moved = recorder();
        const uOnBws = wsClient(b.url, u.token).client;
        uOnBws.system.notifications.subscribe({ lastEventId: lastId }, moved.handlers);
        await httpClient(b.url, v.token).chat.send.mutate({ conversationId: conversationId!, content: 'six' });
        const after = () => inbox.ids().filter((id) => id > Number(lastId));
        await waitFor(() => after().length >= 3 && moved.ids().length >= after().length, {
          what: 'the moved client to catch up',
        });
        expect(moved.ids()).toEqual(after());
        expect(inOrderOnce(inbox.ids())).toBe(true);
        expect(
          [inbox, mover, chat, discoveryA, discoveryB, candlesA, candlesB, moved].flatMap((r) => r.errors),
        ).toEqual([]);

        // Limits count across instances: five wrong passwords are free per account, wherever they
        // land; three on A and two on B use them up, and the next one on either is refused.
        const wrong = (url: string) =>
          httpClient(url)
            .auth.signIn.mutate({ email: u.user.email, password: 'not the password' })
            .then(
              () => 'signed in',
              (err: { data?: { code?: string } }) => err.data?.code,
            );
        for (const url of [a.url, a.url, a.url, b.url, b.url]) expect(await wrong(url)).toBe('UNAUTHORIZED');
        expect(await wrong(a.url)).toBe('TOO_MANY_REQUESTS');
        expect(await wrong(b.url)).toBe('TOO_MANY_REQUESTS');
      }, 180_000);
    });
  },
);
