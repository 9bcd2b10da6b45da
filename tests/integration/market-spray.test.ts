import { describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/app';
import { FAKE_START, marketTestApp, quickUsers } from '../helpers/market';
import { manySymbols, seedSeries } from '../helpers/market-symbols';
import { sprayMarketLive } from '../helpers/market-spray';
import { waitFor } from '../helpers/wait';

// Issue 18 §1: one user, 11 sockets × 100 `market.live` on distinct symbols used to end the process.
const SYMBOLS = manySymbols(1100, 'P');
const BUDGET = /new symbol and timeframe pairs in the last hour/;
const CAP = /follows as many markets as it can/;
const PER_USER = /Too many open subscriptions for one account/;

/** One instance with its fake exchange listing (and its database knowing) every sprayed symbol. */
async function instance(env: Record<string, string>) {
  const { app, fake } = await marketTestApp(env);
  fake.listSymbols(SYMBOLS);
  await seedSeries(app, SYMBOLS, FAKE_START);
  const server = await startTestServer(app);
  const { token } = (await quickUsers(app, 1))[0]!;
  return { app, fake, server, token };
}

async function stillServing(url: string) {
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
}

describe('the market.live spray on one instance', () => {
  it('with the default budget: the first 60 new series start, the rest are refused as over the budget, and the server keeps serving', async () => {
    const { fake, server, token } = await instance({});
    const spray = sprayMarketLive([server.url], token, SYMBOLS);
    // 1,100 subscriptions pass the per-user cap of 1,000 if they arrive before the budget's
    // refusals free their slots (on Postgres the budget is a database round trip): those few get
    // the cap's refusal instead. Either way exactly 60 start and every other one is refused.
    await waitFor(() => spray.refused.size >= 1040, {
      what: '1,040 subscriptions refused',
      progress: () => spray.refused.size,
    });
    await waitFor(() => fake.subscriptions().length === 60, {
      what: '60 streams upstream',
      progress: () => fake.subscriptions().length,
    });
    expect(spray.refused.size).toBe(1040);
    expect(spray.accepted()).toHaveLength(60);
    const refusals = [...spray.refused.values()];
    expect(
      refusals.every((r) => r.code === 'TOO_MANY_REQUESTS' && (BUDGET.test(r.message) || PER_USER.test(r.message))),
    ).toBe(true);
    expect(refusals.filter((r) => BUDGET.test(r.message)).length).toBeGreaterThanOrEqual(940);
    await stillServing(server.url);
    // The started ones stream.
    const one = spray.accepted()[0]!;
    await waitFor(
      () => {
        fake.advance(0);
        return (spray.events.get(one) ?? 0) > 0;
      },
      { what: 'a started subscription to receive candles', intervalMs: 200 },
    );
  }, 120_000);

  it('with a raised budget: the feed cap refuses what is over it, the rest stream, and the server keeps serving', async () => {
    // The per-user subscription cap (1,000 by default) is raised too, so the feed cap is what refuses.
    const { app, fake, server, token } = await instance({
      MARKET_NEW_SERIES_PER_USER_PER_HOUR: '5000',
      WS_MAX_SUBSCRIPTIONS_PER_USER: '2000',
      MARKET_MAX_STREAMS_PER_TIMEFRAME: '1050',
    });
    const spray = sprayMarketLive([server.url], token, SYMBOLS);
    await waitFor(() => spray.started.size === SYMBOLS.length && spray.refused.size >= 50, {
      what: '50 subscriptions refused',
      progress: () => spray.started.size + spray.refused.size,
    });
    expect(spray.refused.size).toBe(50);
    expect(spray.accepted()).toHaveLength(1050);
    expect([...spray.refused.values()].every((r) => r.code === 'TOO_MANY_REQUESTS' && CAP.test(r.message))).toBe(true);
    await waitFor(() => fake.subscriptions().length === 1050, {
      what: '1,050 streams upstream',
      timeoutMs: 60_000,
      progress: () => fake.subscriptions().length,
    });
    expect(app.market.stats().timeframes.find((t) => t.timeframe === '1m')?.connections).toBe(2);
    await stillServing(server.url);
    const last = spray.accepted().at(-1)!;
    await waitFor(
      () => {
        fake.advance(0);
        return (spray.events.get(last) ?? 0) > 0;
      },
      { what: 'a subscription on the second connection to receive candles', intervalMs: 200 },
    );
  }, 180_000);
});
