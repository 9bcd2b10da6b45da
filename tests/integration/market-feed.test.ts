import { describe, expect, it } from 'vitest';
import { TIMEFRAMES, type LiveEvent } from '../../shared/market';
import { startTestServer } from '../helpers/app';
import { wsClient } from '../helpers/clients';
import { marketTestApp, quickUsers, until } from '../helpers/market';
import { waitFor } from '../helpers/wait';
import { skipResumePoint } from '../helpers/resume-point';

// Pings every second (Binance: every 20 s): with the pongs they cost, the 3 control messages a
// second the feed allows itself must still stay under 5/s. Faster pings break that budget on a
// busy machine, where subscriptions trickle in and each one costs its own SUBSCRIBE.
// A grace period a busy machine cannot overrun between a release and the next watch.
// The 200 viewers' sockets all come from loopback: room above the per-address cap's default (200).
const { app, fake } = await marketTestApp(
  { MARKET_SYMBOL_GRACE_MS: '1500', WS_MAX_SOCKETS_PER_ADDRESS: '400' },
  { pingIntervalMs: 1_000 },
);
const server = await startTestServer(app);
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const VIEWERS = 200;

describe('market feed sharing', () => {
  // 3,600 subscriptions: minutes, not seconds, on a busy two-core machine (the waits fail on a stall instead).
  it('serves 200 viewers × 3 symbols × 6 timeframes over exactly 6 upstream connections', async () => {
    const accounts = await quickUsers(app, VIEWERS);
    const viewers = accounts.map(({ token }) => {
      const { client } = wsClient(server.url, token);
      const closed1m = new Set<string>();
      let events = 0;
      const subs = SYMBOLS.flatMap((symbol) =>
        TIMEFRAMES.map((timeframe) =>
          client.market.live.subscribe(
            { symbol, timeframe },
            {
              onData: skipResumePoint(({ data: e }) => {
                events++;
                if (e.closed && e.timeframe === '1m') closed1m.add(e.symbol);
              }),
            },
          ),
        ),
      );
      return { subs, closed1m, events: () => events };
    });

    const subscriptions = () => app.market.stats().totalSubscriptions;
    await waitFor(() => subscriptions() === VIEWERS * 18, {
      what: 'every subscription to start',
      progress: subscriptions,
    });
    await until(() => fake.subscriptions().length === 18, 'the 18 upstream streams');
    expect(fake.openConnections).toBe(6);
    // All three at once: a failure then says whether the exchange cut a connection and why.
    const { connectionsOpened, rateLimitKicks, pongTimeouts } = fake.counters;
    expect({ connectionsOpened, rateLimitKicks, pongTimeouts }).toEqual({
      connectionsOpened: 6,
      rateLimitKicks: 0,
      pongTimeouts: 0,
    });

    // One closing minute: every viewer gets the three 1m candles, from one upstream message each.
    fake.advance(30_000);
    await waitFor(() => viewers.every((v) => v.closed1m.size === 3 && v.events() >= 18 + 3), {
      what: 'every viewer to receive the closed 1m candles and a forming update per series',
      progress: () => viewers.reduce((n, v) => n + v.events(), 0),
    });

    const stats = await accounts[0]!.caller.market.stats();
    expect(stats).toMatchObject({
      activeSessions: VIEWERS,
      totalSubscriptions: VIEWERS * 18,
      sharedWebSockets: 6,
      efficiency: {
        traditionalConnections: VIEWERS * 6,
        sharedConnections: 6,
        savedConnections: VIEWERS * 6 - 6,
        savingsPercent: 99.5,
      },
    });
    expect(stats.timeframes.map((t) => t.timeframe)).toEqual([...TIMEFRAMES]);
    expect(stats.timeframes.every((t) => t.symbols.join() === 'BTCUSDT,ETHUSDT,SOLUSDT' && t.connections === 1)).toBe(
      true,
    );
    expect(app.stats.upstreamConnections().binance).toBe(6);
    // Control messages were coalesced and paced: no rate-limit disconnect, a handful of SUBSCRIBEs.
    expect(fake.counters.rateLimitKicks).toBe(0);
    expect(fake.counters.pongTimeouts).toBe(0);
    expect(fake.counters.subscribeMessages).toBeLessThanOrEqual(18);

    for (const v of viewers) for (const s of v.subs) s.unsubscribe();
    await waitFor(() => subscriptions() === 0, { what: 'every subscription to end', progress: subscriptions });
    // After the grace period nobody watches anything: the upstream connections close.
    await until(() => fake.openConnections === 0, 'the upstream connections to close');
    expect(await accounts[0]!.caller.market.stats()).toMatchObject({
      activeSessions: 0,
      sharedWebSockets: 0,
      efficiency: { savingsPercent: 0 },
    });
  }, 600_000);

  it('keeps a symbol through the grace period and drops it with UNSUBSCRIBE when another symbol remains', async () => {
    const [a] = await quickUsers(app, 1);
    const { client } = wsClient(server.url, a!.token);
    const btc = client.market.live.subscribe({ symbol: 'BTCUSDT', timeframe: '1h' }, {});
    const eth = client.market.live.subscribe({ symbol: 'ETHUSDT', timeframe: '1h' }, {});
    await until(() => fake.subscriptions().join() === 'btcusdt@kline_1h,ethusdt@kline_1h', 'both streams');
    const opened = fake.counters.connectionsOpened;
    const controls = fake.counters.controlMessages;
    eth.unsubscribe();
    await until(() => app.market.stats().totalSubscriptions === 1, 'ETHUSDT to be released');
    // Back within the grace period: nothing changes upstream.
    const again = client.market.live.subscribe({ symbol: 'ETHUSDT', timeframe: '1h' }, {});
    await until(() => app.market.stats().totalSubscriptions === 2, 'ETHUSDT to be watched again');
    expect(fake.subscriptions()).toEqual(['btcusdt@kline_1h', 'ethusdt@kline_1h']);
    expect(fake.counters.controlMessages).toBe(controls);
    again.unsubscribe();
    await until(() => fake.subscriptions().join() === 'btcusdt@kline_1h', 'ETHUSDT to be unsubscribed');
    expect(fake.counters.connectionsOpened).toBe(opened);
    btc.unsubscribe();
    await until(() => fake.openConnections === 0, 'the connection to close');
  });

  it('answers the exchange pings and reconnects after a forced drop', async () => {
    const [a] = await quickUsers(app, 1);
    const { client } = wsClient(server.url, a!.token);
    const got: LiveEvent[] = [];
    const sub = client.market.live.subscribe(
      { symbol: 'BTCUSDT', timeframe: '15m' },
      { onData: skipResumePoint((d) => void got.push(d.data)) },
    );
    await until(() => fake.subscriptions().includes('btcusdt@kline_15m'), 'the stream');
    const opened = fake.counters.connectionsOpened;
    const pongs = fake.counters.pongs;
    await until(() => fake.counters.pongs > pongs + 2, 'three pings answered');
    expect(fake.counters.pongTimeouts).toBe(0);
    expect(fake.counters.connectionsOpened).toBe(opened);
    fake.dropConnections();
    await until(
      () => fake.counters.connectionsOpened === opened + 1 && fake.subscriptions().includes('btcusdt@kline_15m'),
      'the reconnect',
    );
    const before = got.length;
    fake.advance(1000);
    await until(() => got.length > before, 'data after the reconnect');
    sub.unsubscribe();
  });
});
