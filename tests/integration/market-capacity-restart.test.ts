import { describe, expect, it } from 'vitest';
import { marketStrategies } from '../../server/db/schema';
import { FAKE_START, marketTestApp, quickUsers } from '../helpers/market';
import { manySymbols, seedSeries } from '../helpers/market-symbols';
import { waitFor } from '../helpers/wait';

// More traded series than one Binance connection carries (1,024): the server used to throw on the
// 1,025th (on Postgres inside a timer, ending the process, again after every restart).
const SERIES = 1100;
const { app, fake } = await marketTestApp({ MARKET_MAX_STREAMS_PER_TIMEFRAME: '4096' });

describe('1,100 enabled strategies on distinct symbols', () => {
  it('are all followed over two connections, and the server keeps serving', async () => {
    const accounts = await quickUsers(app, 13);
    const symbols = manySymbols(SERIES);
    fake.listSymbols(symbols);
    await seedSeries(app, symbols, FAKE_START);
    await app.db.insert(marketStrategies).values(
      symbols.map((symbol, i) => ({
        userId: accounts[i % accounts.length]!.user.id,
        name: `s${i}`,
        symbol,
        timeframe: '1m' as const,
        rule: { type: 'ema_cross' as const },
        positionSize: 100,
        takeProfitPct: 1,
        stopLossPct: 1,
        enabled: true,
      })),
    );
    // What a restart does: read the enabled strategies and follow their series.
    await app.market.tradingWatch.sync();
    await waitFor(() => fake.subscriptions().length === SERIES, {
      what: `${SERIES} streams subscribed upstream`,
      timeoutMs: 40_000,
    });
    expect(app.market.tradingWatch.series()).toHaveLength(SERIES);
    await waitFor(() => app.market.stats().timeframes.find((x) => x.timeframe === '1m')?.connections === 2, {
      what: 'two open 1m connections',
    });
    expect(fake.openConnections).toBe(2);
    // Candles flow on the second connection too, and the instance still answers.
    await waitFor(
      () => {
        fake.advance(0);
        return app.market.hub.forming(symbols[SERIES - 1]!, '1m') !== null;
      },
      { what: 'a forming candle on the 1,100th series', intervalMs: 200 },
    );
    expect((await accounts[0]!.caller.market.strategies.list()).items.length).toBeGreaterThan(0);
  }, 90_000);
});
