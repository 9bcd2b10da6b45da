import { describe, expect, it } from 'vitest';
import { FakeBinance } from '../../server/demo/binance';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { httpClient, wsClient } from '../helpers/clients';
import { rejection } from '../helpers/errors';
import { capturedLog } from '../helpers/log';
import { FAKE_START, eagerStrategy } from '../helpers/market';
import { waitFor } from '../helpers/wait';

const fake = await FakeBinance.start({ start: FAKE_START });
const { log, lines } = capturedLog('warn');
const BUDGET = 3;
// A series stays kept a minute after its last use, so "already kept, free" holds however slow the
// machine (market-series-eviction.test.ts covers dropping idle series).
const app = await createTestApp(
  {
    ...fake.env,
    MARKET_SYMBOL_GRACE_MS: '60000',
    MARKET_NEW_SERIES_PER_USER_PER_HOUR: String(BUDGET),
    WS_MAX_SUBSCRIPTIONS: '1000',
    WS_MAX_CALLS_PER_SECOND: '1000',
  },
  { log },
);
const server = await startTestServer(app);
// Closed after the app and server (afterAll runs in reverse order).
const { afterAll } = await import('vitest');
afterAll(() => fake.close());
const extra = Array.from({ length: 20 }, (_, i) => `S${String(i).padStart(4, '0')}USDT`);
fake.listSymbols(extra);

describe("the exchange's symbol list", () => {
  it('answers 400 made-up symbols on one socket with BAD_REQUEST, without one kline call, series or warn line', async () => {
    const { token } = await signUp(app);
    const { client } = wsClient(server.url, token);
    const klinesBefore = fake.counters.restRequests;
    const seriesBefore = app.market.hub.size();
    const errors: string[] = [];
    const subs = Array.from({ length: 400 }, (_, i) =>
      client.market.live.subscribe(
        { symbol: `FAKE${i}COIN`, timeframe: '1m' },
        { onError: (err) => void errors.push(`${err.data?.code} ${err.message}`) },
      ),
    );
    await waitFor(() => errors.length === 400, { what: 'every subscription to fail', progress: () => errors.length });
    for (const s of subs) s.unsubscribe();
    expect(
      errors.filter((e) =>
        /^BAD_REQUEST Binance does not list FAKE\d+COIN\. Check the symbol, like BTCUSDT\.$/.test(e),
      ),
    ).toHaveLength(400);
    expect(fake.counters.restRequests - klinesBefore).toBe(0);
    expect(fake.counters.exchangeInfoRequests).toBe(1);
    expect(app.market.hub.size()).toBe(seriesBefore);
    expect(fake.subscriptions()).toEqual([]);
    expect(lines.filter((l) => l.includes('FAKE'))).toEqual([]);
  });

  it('refuses an unlisted or halted symbol for candles and strategies, and lists the tick size', async () => {
    fake.listSymbols(['HALTUSDT'], 'BREAK');
    const { caller } = await signUp(app);
    const before = fake.counters.restRequests;
    for (const symbol of ['NOPEUSDT', 'HALTUSDT']) {
      const err = await rejection(caller.market.candles({ symbol, timeframe: '1h' }));
      expect([err.code, err.message]).toEqual([
        'BAD_REQUEST',
        `Binance does not list ${symbol}. Check the symbol, like BTCUSDT.`,
      ]);
    }
    const created = await rejection(caller.market.strategies.create({ ...eagerStrategy('nope'), symbol: 'NOPEUSDT' }));
    expect(created.code).toBe('BAD_REQUEST');
    const [first] = (await caller.market.strategies.list()).items;
    expect((await rejection(caller.market.strategies.update({ id: first!.id, symbol: 'NOPEUSDT' }))).code).toBe(
      'BAD_REQUEST',
    );
    expect(fake.counters.restRequests - before).toBe(0);
    expect(await app.market.symbols.check('BTCUSDT')).toEqual({ baseAsset: 'BTC', quoteAsset: 'USDT', tickSize: 0.01 });
  });

  it("answers a listed symbol's tick size from the cached list, and refuses one the exchange does not list", async () => {
    const { caller } = await signUp(app);
    await app.market.symbols.check('BTCUSDT');
    const before = fake.counters.exchangeInfoRequests + fake.counters.restRequests;
    expect(await caller.market.symbol({ symbol: 'DOGEUSDT' })).toEqual({ symbol: 'DOGEUSDT', tickSize: 0.00001 });
    expect(await caller.market.symbol({ symbol: 'btcusdt' })).toEqual({ symbol: 'BTCUSDT', tickSize: 0.01 });
    const err = await rejection(caller.market.symbol({ symbol: 'NOPEUSDT' }));
    expect([err.code, err.message]).toEqual([
      'BAD_REQUEST',
      'Binance does not list NOPEUSDT. Check the symbol, like BTCUSDT.',
    ]);
    expect(fake.counters.exchangeInfoRequests + fake.counters.restRequests).toBe(before);
  });
});

describe('the per-user budget on new series', () => {
  it('refuses a user past the budget, leaves others alone, and never counts an existing series', async () => {
    const a = await signUp(app);
    const b = await signUp(app);
    for (const symbol of extra.slice(0, BUDGET)) await a.caller.market.candles({ symbol, timeframe: '1m', limit: 5 });
    const err = await rejection(a.caller.market.candles({ symbol: extra[BUDGET]!, timeframe: '1m', limit: 5 }));
    expect(err.code).toBe('TOO_MANY_REQUESTS');
    expect(err.message).toMatch(/^You started 3 new symbol and timeframe pairs in the last hour/);
    // Already kept: free, for A as for B.
    await a.caller.market.candles({ symbol: extra[0]!, timeframe: '1m', limit: 5 });
    const strategy = await rejection(
      a.caller.market.strategies.create({ ...eagerStrategy('over'), symbol: extra[BUDGET]!, timeframe: '1m' }),
    );
    expect(strategy.code).toBe('TOO_MANY_REQUESTS');
    await b.caller.market.candles({ symbol: extra[BUDGET]!, timeframe: '1m', limit: 5 });
    await b.caller.market.candles({ symbol: extra[1]!, timeframe: '1m', limit: 5 });
  });

  it('charges one new series once, however many views of it open together, and to nobody else', async () => {
    const e = await signUp(app);
    const f = await signUp(app);
    const symbol = extra[18]!;
    // More views of one new series at once than the budget holds, from two users.
    const viewers = [...Array.from({ length: 2 * BUDGET }, () => e.token), f.token];
    const started = new Set<number>();
    const errors: string[] = [];
    const subs = viewers.map((token, i) =>
      wsClient(server.url, token).client.market.live.subscribe(
        { symbol, timeframe: '4h' },
        { onData: () => void started.add(i), onError: (err) => void errors.push(`${err.data?.code}`) },
      ),
    );
    await waitFor(() => started.size === viewers.length || errors.length > 0, {
      what: 'every view to start',
      progress: () => started.size,
    });
    for (const s of subs) s.unsubscribe();
    expect(errors).toEqual([]);
    // E paid once, F nothing: each may still start the rest of the budget.
    // (Each on its own timeframe: a series one of them started would be free for the other.)
    for (const [user, left, timeframe] of [[e, BUDGET - 1, '1h'] as const, [f, BUDGET, '1d'] as const]) {
      for (let i = 0; i < left; i++) await user.caller.market.candles({ symbol: extra[i]!, timeframe, limit: 5 });
      const over = await rejection(user.caller.market.candles({ symbol: extra[19]!, timeframe, limit: 5 }));
      expect(over.code).toBe('TOO_MANY_REQUESTS');
    }
  });

  it('counts before the work: one HTTP batch and several sockets at once get exactly the budget', async () => {
    const c = await signUp(app);
    const fresh = extra.slice(5, 5 + 3 * BUDGET);
    const http = httpClient(server.url, c.token);
    const batch = await Promise.allSettled(
      fresh.slice(0, 2 * BUDGET).map((symbol) => http.market.candles.query({ symbol, timeframe: '5m', limit: 5 })),
    );
    expect(batch.filter((r) => r.status === 'fulfilled')).toHaveLength(BUDGET);

    const d = await signUp(app);
    const outcomes: string[] = [];
    const rest = extra.slice(12, 12 + 2 * BUDGET);
    const subs = rest.map((symbol) => {
      const { client } = wsClient(server.url, d.token);
      return client.market.live.subscribe(
        { symbol, timeframe: '15m' },
        {
          onStarted: () => {},
          onData: () => void outcomes.push(`ok ${symbol}`),
          onError: (e) => void outcomes.push(`${e.data?.code}`),
        },
      );
    });
    fake.advance(0);
    await waitFor(
      () => {
        fake.advance(0);
        return (
          new Set(outcomes).size === rest.length - BUDGET + 1 &&
          outcomes.filter((o) => o === 'TOO_MANY_REQUESTS').length === BUDGET
        );
      },
      { what: 'every subscription to start or be refused', progress: () => outcomes.join(), intervalMs: 100 },
    );
    for (const s of subs) s.unsubscribe();
  });
});
