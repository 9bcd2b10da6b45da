import { connect } from 'node:net';
import { max } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { App } from '../../server/app';
import { SESSION_COOKIE } from '../../server/modules/auth/cookies';
import { discoveryEvents, vaultEvents } from '../../server/db/schema';
import { isResumePoint } from '../../shared/system';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { httpClient, sseClient, wsClient } from '../helpers/clients';
import { afterThis } from '../helpers/cleanup';
import { deliver } from '../helpers/inbox';
import { eagerStrategy, marketTestApp } from '../helpers/market';
import { noUpgradeProxy } from '../helpers/no-upgrade-proxy';
import { waitFor } from '../helpers/wait';

// Issue 22: every subscription over server-sent events (tRPC's httpSubscriptionLink), through a
// proxy that refuses WebSocket upgrades, with the WebSocket path's resume, auth and limits.

const MIN = 60_000;
// A stalled SSE write is cut after 2 s here (30 s by default), so the slow-reader case is quick.
const { app, fake } = await marketTestApp({ HTTP_WRITE_TIMEOUT_MS: '2000' });
const server = await startTestServer(app);
const proxy = await noUpgradeProxy({ port: server.port });
// The file's first account is the admin (vault.events and discovery.autoStop need one).
const admin = await signUp(app);

type Message = { id?: string; data: unknown };
const open = (a: App, path: string) => a.stats.subscriptionsByPath()[path] ?? 0;
const note = (userId: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ userId, feature: 'test', type: 'note', payload: { i } }));

/** One subscription's messages, its resume points apart; unsubscribed when the test ends. */
function recorder() {
  const r = {
    resumePoints: [] as string[],
    ids: [] as number[],
    messages: [] as Message[],
    errors: [] as { data?: { code?: string } | null; message: string }[],
    handlers: {
      onData: (m: Message) => {
        if (isResumePoint(m.data)) return void r.resumePoints.push(m.id!);
        r.messages.push(m);
        if (m.id !== undefined) r.ids.push(Number(m.id));
      },
      onError: (err: { data?: { code?: string } | null; message: string }) => void r.errors.push(err),
    },
    track(sub: { unsubscribe(): void }) {
      afterThis(() => sub.unsubscribe());
      return sub;
    },
  };
  return r;
}

describe('subscriptions over server-sent events, through a proxy that refuses upgrades', () => {
  it('the proxy really refuses WebSockets', async () => {
    const before = proxy.refused();
    const { ws } = wsClient(proxy.url);
    await waitFor(() => proxy.refused() > before, { what: 'the upgrade to be refused' });
    ws.close();
  });

  it('resume after a dropped stream and from an explicit lastEventId: nothing missed, nothing twice', async () => {
    const ann = await signUp(app);
    const live = recorder();
    live.track(sseClient(proxy.url, ann.token).system.notifications.subscribe(undefined, live.handlers));
    await waitFor(() => live.resumePoints.length === 1, { what: 'the resume point, first' });
    expect(live.messages).toEqual([]);

    const first = (await deliver(app, note(ann.user.id, 3))).map((e) => e.id);
    await waitFor(() => live.ids.length === 3, { what: 'the first three events' });
    // The network drops the stream; events are stored while the client is away.
    proxy.dropConnections();
    await waitFor(() => open(app, 'system.notifications') === 0, { what: 'the server to see the stream end' });
    const during = (await deliver(app, note(ann.user.id, 3))).map((e) => e.id);
    // The EventSource reconnects with its Last-Event-ID; the gap is replayed, then live again.
    await waitFor(() => live.ids.length === 6, { what: 'the gap replayed after the reconnect' });
    const after = (await deliver(app, note(ann.user.id, 2))).map((e) => e.id);
    await waitFor(() => live.ids.length === 8, { what: 'the live events after the reconnect' });
    expect(live.ids).toEqual([...first, ...during, ...after]);
    expect(live.errors).toEqual([]);

    // A new subscription from an id of the first: exactly what came after it, no resume point.
    const later = recorder();
    later.track(
      sseClient(proxy.url, ann.token).system.notifications.subscribe({ lastEventId: String(first[0]) }, later.handlers),
    );
    await waitFor(() => later.ids.length === 7, { what: 'the replay from the first id' });
    const next = (await deliver(app, note(ann.user.id, 1))).map((e) => e.id);
    await waitFor(() => later.ids.length === 8 && live.ids.length === 9, { what: 'one more live event on both' });
    expect(later.ids).toEqual([...first.slice(1), ...during, ...after, ...next]);
    expect(later.resumePoints).toEqual([]);
  });

  it('shared topics run as plain generators over SSE and still deliver everything, resume point first', async () => {
    expect(admin.user.role).toBe('admin');
    // A strategy on the series keeps it followed upstream while the viewer's stream is away, so
    // the candle that closes then is stored and replayed (a viewer alone would release it).
    await admin.caller.market.strategies.create(eagerStrategy('Keeps the series'));
    const client = sseClient(proxy.url, admin.token);
    const streams = { discovery: recorder(), vault: recorder(), market: recorder() };
    streams.discovery.track(client.discovery.events.subscribe(undefined, streams.discovery.handlers));
    streams.vault.track(client.vault.events.subscribe(undefined, streams.vault.handlers));
    streams.market.track(client.market.live.subscribe({ symbol: 'BTCUSDT', timeframe: '1m' }, streams.market.handlers));
    const all = Object.values(streams);
    await waitFor(() => all.every((s) => s.resumePoints.length === 1), { what: 'a resume point on each stream' });
    for (const s of all) expect(s.messages.filter((m) => m.id !== undefined)).toEqual([]);
    await waitFor(() => fake.subscriptions().includes('btcusdt@kline_1m'), { what: 'the series followed upstream' });

    const newest = async (table: typeof discoveryEvents | typeof vaultEvents) =>
      (await app.db.select({ id: max(table.id) }).from(table))[0]!.id!;
    const publish = async () => {
      await admin.caller.discovery.autoStop();
      await admin.caller.vault.controlScheduler({ action: 'stop' });
      fake.advance(MIN);
      const openTime = Math.floor(fake.now / MIN) * MIN - MIN;
      await waitFor(async () => (await app.market.store.latest('BTCUSDT', '1m', 1))[0]?.candle.openTime === openTime, {
        what: 'the closed candle to be stored',
      });
      return { discovery: await newest(discoveryEvents), vault: await newest(vaultEvents), openTime };
    };
    const closedCandles = () =>
      streams.market.messages
        .filter((m) => m.id !== undefined)
        .map((m) => (m.data as { candle: { openTime: number } }).candle.openTime);

    const one = await publish();
    await waitFor(
      () =>
        streams.discovery.ids.includes(one.discovery) &&
        streams.vault.ids.includes(one.vault) &&
        closedCandles().includes(one.openTime),
      { what: 'the first event on each stream' },
    );
    // No claim over HTTP: nothing joined a fan-out loop, the generators carry the streams.
    expect(server.fanout().sinks).toBe(0);

    proxy.dropConnections();
    const two = await publish();
    await waitFor(
      () =>
        streams.discovery.ids.includes(two.discovery) &&
        streams.vault.ids.includes(two.vault) &&
        closedCandles().includes(two.openTime),
      { what: 'the events published while away, after the reconnect' },
    );
    for (const s of [streams.discovery, streams.vault]) expect(new Set(s.ids).size).toBe(s.ids.length);
    expect(closedCandles()).toEqual([one.openTime, two.openTime]);
    expect(server.fanout().sinks).toBe(0);
    for (const s of all) expect(s.errors).toEqual([]);
  });

  it('signing out ends the stream with UNAUTHORIZED; no event of another user ever arrives', async () => {
    const ann = await signUp(app);
    const bob = await signUp(app);
    const anns = recorder();
    const bobs = recorder();
    anns.track(sseClient(proxy.url, ann.token).system.notifications.subscribe(undefined, anns.handlers));
    bobs.track(sseClient(proxy.url, bob.token).system.notifications.subscribe(undefined, bobs.handlers));
    await waitFor(() => anns.resumePoints.length + bobs.resumePoints.length === 2, { what: 'both streams open' });

    const forBob = (await deliver(app, note(bob.user.id, 2))).map((e) => e.id);
    const forAnn = (await deliver(app, note(ann.user.id, 1))).map((e) => e.id);
    await waitFor(() => anns.ids.length === 1 && bobs.ids.length === 2, { what: 'each their own events' });
    expect(anns.ids).toEqual(forAnn);
    expect(bobs.ids).toEqual(forBob);

    await httpClient(server.url, ann.token).auth.signOut.mutate();
    await waitFor(() => anns.errors.length === 1, { what: "Ann's stream to end" });
    expect(anns.errors[0]!.data?.code).toBe('UNAUTHORIZED');
    expect(anns.errors[0]!.message).toMatch(/sign in again/);
    // Bob's stream is untouched.
    const more = (await deliver(app, note(bob.user.id, 1))).map((e) => e.id);
    await waitFor(() => bobs.ids.length === 3, { what: "Bob's next event" });
    expect(bobs.ids).toEqual([...forBob, ...more]);
    expect(bobs.errors).toEqual([]);
  });

  it('a reader that stops reading is cut, while another keeps receiving', async () => {
    const slow = await signUp(app);
    const fast = await signUp(app);
    const before = app.stats.slowClientDisconnects;

    // A raw client straight to the server: asks for the stream, reads its head, then stops reading.
    const socket = connect(server.port, '127.0.0.1');
    afterThis(() => socket.destroy());
    let head = '';
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => {});
    socket.write(
      `GET /trpc/system.notifications HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${slow.token}\r\n\r\n`,
    );
    const onData = (c: Buffer) => (head += c.toString());
    socket.on('data', onData);
    await waitFor(() => head.includes('resume_point'), { what: 'the slow stream to start' });
    socket.off('data', onData);
    socket.pause();

    const quick = recorder();
    quick.track(sseClient(proxy.url, fast.token).system.notifications.subscribe(undefined, quick.handlers));
    await waitFor(() => quick.resumePoints.length === 1, { what: 'the fast stream to start' });

    // About 10 MB for the slow reader: more than loopback's socket buffers absorb.
    const blob = 'x'.repeat(16 * 1024);
    for (let sent = 0; sent < 640; sent += 20) {
      await deliver(
        app,
        Array.from({ length: 20 }, () => ({ userId: slow.user.id, feature: 'test', type: 'big', payload: { blob } })),
      );
      if (closed) break;
    }
    await waitFor(() => app.stats.slowClientDisconnects === before + 1, { what: 'the slow reader to be cut' });
    // Read again: what is left ends, the server has closed its end.
    socket.resume();
    await waitFor(() => closed, { what: 'its connection to be closed' });
    // Its stream ended on the server: nothing of it is left to grow.
    await waitFor(() => open(app, 'system.notifications') === 1, { what: 'only the fast stream left' });
    const sent = (await deliver(app, note(fast.user.id, 1))).map((e) => e.id);
    await waitFor(() => quick.ids.length === 1, { what: 'the fast reader to keep receiving' });
    expect(quick.ids).toEqual(sent);
  });
});

describe('the caps over SSE', () => {
  it('count SSE streams with WebSockets: per user, per address, and give the slots back', async () => {
    const small = await createTestApp({ WS_MAX_SUBSCRIPTIONS_PER_USER: '3', WS_MAX_SOCKETS_PER_ADDRESS: '4' });
    const smallServer = await startTestServer(small);
    const ann = await signUp(small);
    const bob = await signUp(small);

    // Two over a WebSocket (one socket of the address) and one over SSE: Ann's three.
    const { client: ws } = wsClient(smallServer.url, ann.token);
    const streams = [recorder(), recorder(), recorder()];
    streams[0]!.track(ws.system.notifications.subscribe(undefined, streams[0]!.handlers));
    streams[1]!.track(ws.chat.events.subscribe(undefined, streams[1]!.handlers));
    const third = streams[2]!.track(
      sseClient(smallServer.url, ann.token).system.notifications.subscribe(undefined, streams[2]!.handlers),
    );
    await waitFor(() => streams.every((s) => s.resumePoints.length === 1), { what: "Ann's three streams" });
    const refused = recorder();
    refused.track(sseClient(smallServer.url, ann.token).collections.events.subscribe(undefined, refused.handlers));
    await waitFor(() => refused.errors.length === 1, { what: 'the fourth to be refused' });
    expect(refused.errors[0]!.data?.code).toBe('TOO_MANY_REQUESTS');
    expect(refused.errors[0]!.message).toMatch(/Too many open subscriptions for one account \(at most 3\)/);

    // Closing one gives its slot back.
    third.unsubscribe();
    await waitFor(() => open(small, 'system.notifications') === 1, { what: 'the SSE stream to close' });
    const again = recorder();
    again.track(sseClient(smallServer.url, ann.token).collections.events.subscribe(undefined, again.handlers));
    await waitFor(() => again.resumePoints.length === 1, { what: 'a stream in the freed slot' });

    // The address holds Ann's WebSocket and SSE stream: Bob gets two more streams, not three.
    const bobs = [recorder(), recorder(), recorder()];
    for (const s of bobs.slice(0, 2))
      s.track(sseClient(smallServer.url, bob.token).system.notifications.subscribe(undefined, s.handlers));
    await waitFor(() => bobs.slice(0, 2).every((s) => s.resumePoints.length === 1), { what: "Bob's two" });
    bobs[2]!.track(sseClient(smallServer.url, bob.token).chat.events.subscribe(undefined, bobs[2]!.handlers));
    await waitFor(() => bobs[2]!.errors.length === 1, { what: "Bob's third to be refused" });
    expect(bobs[2]!.errors[0]!.data?.code).toBe('TOO_MANY_REQUESTS');
    expect(bobs[2]!.errors[0]!.message).toMatch(/Too many open connections from this address \(at most 4\)/);
  });

  it('refuse a stream that a cookie from another site would open', async () => {
    const ann = await signUp(app);
    const res = await fetch(
      `${server.url}/trpc/system.notifications?input=${encodeURIComponent(JSON.stringify({ json: null }))}`,
      {
        headers: { Cookie: `${SESSION_COOKIE}=${ann.token}`, Origin: 'https://evil.example' },
        signal: AbortSignal.timeout(15_000),
      },
    );
    const text = await res.text();
    expect(text).toContain('"code":"FORBIDDEN"');
    expect(text).toContain('Cross-site request refused');
  });
});
