import { max } from 'drizzle-orm';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { createApp, type App } from '../../server/app';
import { loadConfig } from '../../server/config';
import type { Database } from '../../server/db/client';
import { discoveryEvents, vaultEvents } from '../../server/db/schema';
import { FakeBinance } from '../../server/demo/binance';
import { startServer, type RunningServer } from '../../server/http';
import { MARKET_FEATURE } from '../../shared/market';
import { isResumePoint } from '../../shared/system';
import { callerForToken, signUp, TEST_HASH_COST, testVaultKey } from '../helpers/app';
import { converse } from '../helpers/chat';
import { wsClient } from '../helpers/clients';
import { reopenableDatabase } from '../helpers/db';
import { eagerStrategy, FAKE_START } from '../helpers/market';
import { waitFor } from '../helpers/wait';
import { deliver } from '../helpers/inbox';

// Issue 18 §7: a tab that has received nothing yet, the server restarts, an event is published
// while the tab reconnects. Through the real @trpc/client wsLink, for every resumable stream:
// the stream's first message is its resume point, so the reconnect sends a lastEventId and the
// event published during the gap arrives, once.

const MIN = 60_000;

const fake = await FakeBinance.start({ start: FAKE_START });
afterAll(() => fake.close());
// At file level: hooks registered inside a test would never run, leaving the data directory behind.
const open = await reopenableDatabase('resume');

function bootApp(open: () => Promise<Database>) {
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    UPSTREAMS: 'demo',
    PASSWORD_HASH_COST: TEST_HASH_COST,
    VAULT_KEY: testVaultKey,
    ...fake.env,
  };
  return open().then((database) =>
    createApp(
      loadConfig({
        ...env,
        MARKET_SYMBOL_GRACE_MS: '100',
        MARKET_RECONNECT_MIN_MS: '20',
        MARKET_RECONNECT_MAX_MS: '200',
      }),
      { database },
    ),
  );
}

type Message = { id?: string; data: unknown };
/** Picks out of a stream the one event a publish made. */
type Matcher = (m: Message) => boolean;

/** What a stream received: its resume points apart, every other message in order. */
function recorder() {
  const r = { resumePoints: [] as string[], messages: [] as Message[], errors: [] as unknown[] };
  return {
    ...r,
    onData: (m: Message) => void (isResumePoint(m.data) ? r.resumePoints.push(m.id!) : r.messages.push(m)),
    onError: (err: unknown) => void r.errors.push(err),
    count: (match: Matcher) => r.messages.filter(match).length,
  };
}

/** For waitFor: true once `ok` holds for every path; until then throws naming those it does not hold for. */
function allOf<P extends string>(paths: P[], ok: (p: P) => boolean): true {
  const missing = paths.filter((p) => !ok(p));
  if (missing.length) throw new Error(`not yet on ${missing.join(', ')}`);
  return true;
}

const newestId = async (app: App, table: typeof discoveryEvents | typeof vaultEvents) =>
  String((await app.db.select({ id: max(table.id) }).from(table))[0]!.id);

describe('an open subscription across a server restart', () => {
  it('gets an event published while it reconnects, once, on every resumable stream', { timeout: 120_000 }, async () => {
    let app = await bootApp(open);
    let server: RunningServer = await startServer(app, { port: 0, host: '127.0.0.1' });
    const { port } = server;
    onTestFinished(async () => {
      await server.close();
      await app.close();
    });

    // Ann is the first account, so the admin (vault.events); Bob talks to her and trades BTCUSDT,
    // which keeps the series followed upstream while no one watches it (after the restart).
    const ann = await signUp(app, { name: 'Ann' });
    const bob = await signUp(app, { name: 'Bob' });
    const conversationId = await converse(ann, bob);
    await bob.caller.market.strategies.create(eagerStrategy('Keeps the series followed'));

    /** One publish per stream, on whichever app runs now; each returns how to recognise its event. */
    const publish: Record<string, () => Promise<Matcher>> = {
      'system.notifications': async () => {
        const [n] = await deliver(app, [
          { userId: ann.user.id, feature: 'test', type: 'ping', payload: { message: 'hello' } },
        ]);
        return (m) => m.id === String(n!.id);
      },
      'chat.events': async () => {
        const { message } = await (
          await callerForToken(app, bob.token)
        ).chat.send({ conversationId, content: 'during the gap' });
        return (m) =>
          (m.data as { type: string; message?: { id: number } }).type === 'new_message' &&
          (m.data as { message: { id: number } }).message.id === message.id;
      },
      'collections.events': async () => {
        const collection = await (
          await callerForToken(app, ann.token)
        ).collections.create({ title: 'made during the gap' });
        return (m) =>
          (m.data as { type: string; payload: { collection?: { id: number } } }).payload.collection?.id ===
          collection.id;
      },
      'market.activity': async () => {
        const [n] = await deliver(app, [{ userId: ann.user.id, feature: MARKET_FEATURE, type: 'ping', payload: {} }]);
        return (m) => m.id === String(n!.id);
      },
      'discovery.events': async () => {
        await (await callerForToken(app, ann.token)).discovery.autoStop();
        const id = await newestId(app, discoveryEvents);
        return (m) => m.id === id;
      },
      'vault.events': async () => {
        await (await callerForToken(app, ann.token)).vault.controlScheduler({ action: 'stop' });
        const id = await newestId(app, vaultEvents);
        return (m) => m.id === id;
      },
      'market.live': async () => {
        // Bob's strategy, not a viewer, has the restarted app follow the series upstream.
        await waitFor(() => fake.subscriptions().includes('btcusdt@kline_1m'), {
          what: 'the series followed upstream',
        });
        fake.advance(MIN);
        const openTime = Math.floor(fake.now / MIN) * MIN - MIN;
        const current = app;
        await waitFor(
          async () => (await current.market.store.latest('BTCUSDT', '1m', 1))[0]?.candle.openTime === openTime,
          { what: 'the closed candle to be stored' },
        );
        return (m) =>
          (m.data as { closed?: boolean; candle?: { openTime: number } }).closed === true &&
          (m.data as { candle: { openTime: number } }).candle.openTime === openTime;
      },
    };

    // Ann's tab, one WebSocket, every resumable stream, none with a lastEventId.
    const { client } = wsClient(server.url, ann.token);
    const streams = {
      'system.notifications': recorder(),
      'chat.events': recorder(),
      'collections.events': recorder(),
      'market.activity': recorder(),
      'discovery.events': recorder(),
      'vault.events': recorder(),
      'market.live': recorder(),
    };
    client.system.notifications.subscribe(undefined, streams['system.notifications']);
    client.chat.events.subscribe(undefined, streams['chat.events']);
    client.collections.events.subscribe(undefined, streams['collections.events']);
    client.market.activity.subscribe(undefined, streams['market.activity']);
    client.discovery.events.subscribe(undefined, streams['discovery.events']);
    client.vault.events.subscribe(undefined, streams['vault.events']);
    client.market.live.subscribe({ symbol: 'BTCUSDT', timeframe: '1m' }, streams['market.live']);
    const paths = Object.keys(streams) as (keyof typeof streams)[];
    await waitFor(() => paths.every((p) => (app.stats.subscriptionsByPath()[p] ?? 0) >= 1), {
      what: 'every subscription to be open on the server',
    });
    // From its first moment each stream gives the tab a resume point (and nothing else yet).
    await waitFor(() => allOf(paths, (p) => streams[p].resumePoints.length > 0), {
      what: 'a resume point on every stream',
    });
    for (const p of paths)
      expect(
        streams[p].messages.filter((m) => m.id !== undefined),
        p,
      ).toEqual([]);

    await server.close();
    await app.close();
    await waitFor(() => fake.openConnections === 0, { what: 'the first app to leave the exchange' });
    // The tab is reconnecting; the restarted app publishes before it listens again.
    app = await bootApp(open);
    const gap: Record<string, Matcher> = {};
    for (const p of paths) gap[p] = await publish[p]!();
    server = await startServer(app, { port, host: '127.0.0.1' });

    await waitFor(() => allOf(paths, (p) => streams[p].count(gap[p]!) >= 1), {
      what: "the gap's event on every stream",
      timeoutMs: 20_000,
    });
    // One more event each, live: once it is in, a duplicate of the gap's event would be too (streams keep order).
    const after: Record<string, Matcher> = {};
    for (const p of paths) after[p] = await publish[p]!();
    await waitFor(() => allOf(paths, (p) => streams[p].count(after[p]!) === 1), {
      what: 'the live event after the reconnect on every stream',
    });
    expect(Object.fromEntries(paths.map((p) => [p, streams[p].count(gap[p]!)]))).toEqual(
      Object.fromEntries(paths.map((p) => [p, 1])),
    );
    for (const p of paths) expect(streams[p].errors, p).toEqual([]);
  });
});
