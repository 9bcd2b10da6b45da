import { describe, expect, it, onTestFinished } from 'vitest';
import { FakeBinance } from '../../server/demo/binance';
import { openDatabase } from '../../server/db/client';
import { httpClient } from '../helpers/clients';
import { startFakes } from '../helpers/discovery';
import { createEmptyDatabase, startInstance, uniqueChannel, type Instance } from '../helpers/cluster';
import { FAKE_START } from '../helpers/market';
import { manySymbols, seedSeries } from '../helpers/market-symbols';
import { sprayMarketLive } from '../helpers/market-spray';
import { waitFor } from '../helpers/wait';

/**
 * Issue 18 §1 on a two-instance cluster: the spray used to end the leader (BinanceStream threw
 * in ClusterFeed's timer), then the follower that took over. With a raised per-user budget the
 * feed cap is what refuses; neither instance may exit.
 */
const onPostgres = !!process.env.DATABASE_URL;
const SYMBOLS = manySymbols(1100, 'Q');

describe.skipIf(!onPostgres)(
  'the market.live spray on a two-instance cluster (skipped on PGlite: one embedded database is one process)',
  () => {
    it('refuses what is over the feed cap to that user, and both instances stay up and keep serving', async () => {
      const database = await createEmptyDatabase();
      onTestFinished(() => database.close());
      const binance = await FakeBinance.start({ start: FAKE_START });
      onTestFinished(() => binance.close());
      binance.listSymbols(SYMBOLS);
      const fakes = await startFakes();
      const env = {
        DATABASE_URL: database.url,
        BUS_CHANNEL: uniqueChannel(),
        UPSTREAMS: 'live',
        ...fakes.env,
        ...binance.env,
        MARKET_RECONNECT_MIN_MS: '20',
        MARKET_RECONNECT_MAX_MS: '200',
        MARKET_SYMBOL_GRACE_MS: '60000',
        VAULT_AUTO_REFRESH_ENABLED: 'false',
        MARKET_NEW_SERIES_PER_USER_PER_HOUR: '5000',
        WS_MAX_SUBSCRIPTIONS_PER_USER: '2000',
        MARKET_MAX_STREAMS_PER_TIMEFRAME: '1050',
        ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
      };
      const [a, b]: [Instance, Instance] = await Promise.all([startInstance('a', env), startInstance('b', env)]);
      // Both migrated it: seed one stored candle per symbol, so no series fetches its history.
      const direct = await openDatabase({ url: database.url });
      onTestFinished(() => direct.close());
      await seedSeries(direct, SYMBOLS, FAKE_START);

      const { token } = await httpClient(a.url).auth.signUp.mutate({
        email: `spray-${Date.now()}@example.com`,
        password: 'one user, many tabs',
        name: 'Spray',
      });
      const spray = sprayMarketLive([a.url, b.url], token, SYMBOLS);
      await waitFor(() => spray.started.size === SYMBOLS.length, {
        what: 'every subscription answered',
        progress: () => spray.started.size,
      });
      // The cap counts the cluster's announced symbols, which lag a little: a few may pass it, but
      // the leader carries at most the cap and everything refused says why.
      await waitFor(
        () => spray.refused.size > 0 && binance.subscriptions().length >= Math.min(1050, spray.accepted().length),
        {
          what: 'refusals and the accepted series subscribed upstream',
          timeoutMs: 60_000,
          progress: () => [spray.refused.size, binance.subscriptions().length],
        },
      );
      expect(
        [...spray.refused.values()].every(
          (r) => r.code === 'TOO_MANY_REQUESTS' && /follows as many markets as it can/.test(r.message),
        ),
      ).toBe(true);
      expect(binance.subscriptions().length).toBeLessThanOrEqual(1050);

      // Past a few announcement periods (5 s each) the cap is still held and nobody exited.
      await waitFor(() => Date.now() - spray.startedAt > 12_000, {
        what: 'three announcement periods',
        timeoutMs: 30_000,
        intervalMs: 500,
      });
      for (const i of [a, b]) {
        expect(i.child.exitCode, `${i.name} is still running`).toBeNull();
        expect((await fetch(`${i.url}/healthz`)).status).toBe(200);
      }
      expect(binance.subscriptions().length).toBeLessThanOrEqual(1050);
      expect(a.output() + b.output()).not.toMatch(/carries at most 1024 streams/);
      // A subscription on each instance still streams.
      for (const [i, symbol] of [
        spray.accepted()[0]!,
        spray.accepted().find((s) => SYMBOLS.indexOf(s) >= 100 && SYMBOLS.indexOf(s) < 200)!,
      ].entries()) {
        await waitFor(
          () => {
            binance.advance(0);
            return (spray.events.get(symbol) ?? 0) > 0;
          },
          { what: `a subscription on instance ${i === 0 ? 'a' : 'b'} to receive candles`, intervalMs: 250 },
        );
      }
    }, 240_000);
  },
);
