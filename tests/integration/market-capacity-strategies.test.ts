import { describe, expect, it } from 'vitest';
import { FAKE_START, marketTestApp, quickUsers } from '../helpers/market';
import { manySymbols, seedSeries } from '../helpers/market-symbols';
import { rejection } from '../helpers/errors';
import { waitFor } from '../helpers/wait';

// A tiny cap so the feed is full after two series.
const { app, fake } = await marketTestApp({ MARKET_MAX_STREAMS_PER_TIMEFRAME: '2', MARKET_SYMBOL_GRACE_MS: '60000' });

const strategy = (name: string, symbol: string, enabled: boolean) =>
  ({
    name,
    symbol,
    timeframe: '1m',
    rule: { type: 'ema_cross' },
    positionSize: 100,
    takeProfitPct: 1,
    stopLossPct: 1,
    enabled,
  }) as const;

describe('strategies past the feed cap', () => {
  it('refuses to create or enable one on a new series with TOO_MANY_REQUESTS; a followed series and a disabled strategy are fine', async () => {
    const [followed, other, extra] = manySymbols(3, 'C');
    fake.listSymbols([followed!, other!, extra!]);
    await seedSeries(app, [followed!, other!, extra!], FAKE_START);
    const releases = [app.market.feed.watch(followed!, '1m'), app.market.feed.watch(other!, '1m')];
    try {
      await waitFor(() => fake.subscriptions().length === 2, { what: 'two streams subscribed upstream' });
      const { caller } = (await quickUsers(app, 1))[0]!;

      const created = await rejection(caller.market.strategies.create(strategy('over the cap', extra!, true)));
      expect(created.code).toBe('TOO_MANY_REQUESTS');
      expect(created.message).toMatch(/follows as many markets as it can/);
      expect((await caller.market.strategies.list()).items.filter((s) => s.symbol === extra)).toHaveLength(0);

      // Kept switched off, it is stored; switching it on is refused the same way, and it stays off.
      const off = await caller.market.strategies.create(strategy('kept off', extra!, false));
      const enabling = await rejection(caller.market.strategies.setEnabled({ id: off.id, enabled: true }));
      expect(enabling.code).toBe('TOO_MANY_REQUESTS');
      expect((await caller.market.strategies.list()).items.find((s) => s.id === off.id)?.enabled).toBe(false);

      // A series the feed already carries takes another strategy.
      expect((await caller.market.strategies.create(strategy('on a followed one', followed!, true))).enabled).toBe(
        true,
      );
    } finally {
      for (const r of releases) r();
    }
  });
});
