import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../server/app';
import { loadConfig } from '../../server/config';
import type { Database } from '../../server/db/client';
import { FakeBinance } from '../../server/demo/binance';
import { callerForToken, signUp, TEST_HASH_COST, testVaultKey, type Caller } from '../helpers/app';
import { reopenableDatabase } from '../helpers/db';
import { FAKE_START, until, eagerStrategy } from '../helpers/market';

const MIN = 60_000;

const fake = await FakeBinance.start({ start: FAKE_START });
afterAll(() => fake.close());

async function boot(open: () => Promise<Database>): Promise<App> {
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    UPSTREAMS: 'demo',
    PASSWORD_HASH_COST: TEST_HASH_COST,
    VAULT_KEY: testVaultKey,
    ...fake.env,
    MARKET_SYMBOL_GRACE_MS: '100',
    MARKET_RECONNECT_MIN_MS: '20',
    MARKET_RECONNECT_MAX_MS: '200',
  };
  return createApp(loadConfig(env), { database: await open() });
}

/** Minutes go by on the exchange, no browser anywhere, until the caller has `n` trades. */
async function tradeUntil(app: App, caller: Caller, n: number) {
  for (let i = 0; i < 10; i++) {
    fake.advance(MIN);
    await until(
      async () =>
        (await app.market.store.latest('BTCUSDT', '1m', 1))[0]?.candle.openTime ===
        Math.floor(fake.now / MIN) * MIN - MIN,
      'the candle',
    );
    await app.market.settled('BTCUSDT', '1m');
    const trades = (await caller.market.trades()).items;
    if (trades.length >= n) return trades;
  }
  throw new Error(`fewer than ${n} trades after 10 minutes`);
}

describe('paper trading across a server restart', () => {
  it('trades with no viewer before the restart and again after it, without anyone opening the chart', async () => {
    const open = await reopenableDatabase('market');
    const first = await boot(open);
    const { caller, token } = await signUp(first, { name: 'Night trader' });
    await caller.market.strategies.create(eagerStrategy('Scalper'));
    await until(() => fake.subscriptions().includes('btcusdt@kline_1m'), 'the upstream subscription');
    const before = await tradeUntil(first, caller, 1);
    await first.close();
    await until(() => fake.openConnections === 0, 'the first server to leave the exchange');

    const second = await boot(open);
    try {
      // Nothing but the stored strategy brings the series back upstream.
      await until(
        () => fake.subscriptions().includes('btcusdt@kline_1m'),
        'the upstream subscription after the restart',
      );
      expect(second.market.stats().totalSubscriptions).toBe(0);
      const again = await callerForToken(second, token);
      const restartedAt = fake.now;
      const after = await tradeUntil(second, again, before.length + 1);
      expect(after.some((t) => t.openedAt.getTime() > restartedAt)).toBe(true);
    } finally {
      await second.close();
    }
  });
});
