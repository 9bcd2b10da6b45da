import { describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import { startTestServer } from '../helpers/app';
import { wsClient } from '../helpers/clients';
import { FAKE_START, marketTestApp, quickUsers } from '../helpers/market';
import { manySymbols, seedSeries } from '../helpers/market-symbols';
import { waitFor } from '../helpers/wait';

// A cap past one connection's 1,024 streams: the feed must open a second connection, then refuse.
const CAP = 1100;
const { app, fake } = await marketTestApp({
  MARKET_MAX_STREAMS_PER_TIMEFRAME: String(CAP),
  MARKET_SYMBOL_GRACE_MS: '60000',
});
const server = await startTestServer(app);

describe('market feed capacity', () => {
  it('carries more than 1,024 streams of one timeframe over several connections, and refuses a new series past the cap', async () => {
    const symbols = manySymbols(CAP);
    fake.listSymbols([...symbols, 'OVERCAPUSDT']);
    await seedSeries(app, symbols, FAKE_START);
    const releases = symbols.map((s) => app.market.feed.watch(s, '1m'));
    await waitFor(() => fake.subscriptions().length === CAP, {
      what: `${CAP} streams subscribed upstream`,
      timeoutMs: 30_000,
    });
    expect(fake.openConnections).toBe(2);
    expect(app.market.stats().timeframes.find((t) => t.timeframe === '1m')).toMatchObject({ connections: 2 });
    expect(() => app.market.feed.watch('OVERCAPUSDT', '1m')).toThrow(/follows as many markets as it can/);

    // Over the wire: a new series is refused to its caller only; a followed one still streams.
    const [user] = await quickUsers(app, 1);
    const { client } = wsClient(server.url, user!.token);
    const refused = new Promise<unknown>((resolve) => {
      client.market.live.subscribe({ symbol: 'OVERCAPUSDT', timeframe: '1m' }, { onError: resolve });
    });
    const err = await refused;
    expect(err).toBeInstanceOf(TRPCClientError);
    expect((err as { data?: { code?: string } }).data?.code).toBe('TOO_MANY_REQUESTS');
    expect((err as Error).message).toMatch(/try a symbol already followed/);
    let events = 0;
    const sub = client.market.live.subscribe(
      { symbol: symbols[1099]!, timeframe: '1m' },
      { onData: () => void events++ },
    );
    try {
      await waitFor(
        () => {
          fake.advance(0);
          return events > 0;
        },
        { what: 'a followed series to keep streaming', intervalMs: 1000 },
      );
    } finally {
      sub.unsubscribe();
      for (const r of releases) r();
    }
  }, 60_000);
});
