import { describe, expect, it } from 'vitest';
import type { LiveEvent } from '../../shared/market';
import { IndicatorState } from '../../server/modules/market/indicators';
import { startTestServer } from '../helpers/app';
import { wsClient } from '../helpers/clients';
import { eagerStrategy, marketTestApp, quickUsers } from '../helpers/market';
import { manySymbols } from '../helpers/market-symbols';
import { waitFor } from '../helpers/wait';
import { skipResumePoint } from '../helpers/resume-point';

// Memory follows what is watched or traded: a series nobody views and no enabled strategy trades
// is dropped (hub state, known-series cache) once idle for MARKET_SYMBOL_GRACE_MS (100 ms in
// marketTestApp), and a later viewer rebuilds it from the database and the exchange.
const { app, fake } = await marketTestApp();
const server = await startTestServer(app);
const MIN = 60_000;
const VIEWED = manySymbols(6, 'EV');
const TRADED = 'EVTRADEUSDT';
fake.listSymbols([...VIEWED, TRADED]);

/** A WebSocket viewer of one series, recording its events. */
function view(token: string, symbol: string) {
  const { client } = wsClient(server.url, token);
  const got: LiveEvent[] = [];
  const sub = client.market.live.subscribe(
    { symbol, timeframe: '1m' },
    { onData: skipResumePoint((d) => void got.push(d.data)) },
  );
  return { got, sub, closed: () => got.filter((e) => e.closed) };
}

/** Pushes the forming candle until every viewer has one: their streams are attached live. */
function untilLive(viewers: { got: LiveEvent[] }[]) {
  return waitFor(
    () => {
      fake.advance(0);
      return viewers.every((v) => v.got.some((e) => !e.closed));
    },
    { what: 'every viewer to be live', intervalMs: 100 },
  );
}

describe('series nobody watches or trades', () => {
  it('are dropped from memory after the grace period, traded ones are kept, and a re-view gets correct candles and indicators', async () => {
    const [user] = await quickUsers(app, 1);
    expect(app.market.kept()).toEqual({ series: 0, known: 0 });

    // A strategy holds its series for trading, viewer or not.
    const strategy = await user!.caller.market.strategies.create({
      ...eagerStrategy('kept'),
      symbol: TRADED,
      rule: { type: 'rsi', oversold: 1, overbought: 99 },
    });
    await waitFor(() => app.market.tradingWatch.series().some((s) => s.symbol === TRADED), {
      what: 'the traded series to be held',
    });

    const viewers = VIEWED.map((s) => view(user!.token, s));
    await untilLive(viewers);
    // One more series asked for only through market.candles (no stream).
    await user!.caller.market.candles({ symbol: 'ETHUSDT', timeframe: '1m', limit: 5 });
    expect(app.market.kept().series).toBe(VIEWED.length + 2);

    for (const v of viewers) v.sub.unsubscribe();
    await waitFor(() => app.market.kept().series === 1 && app.market.kept().known === 1, {
      what: 'the unwatched series to be dropped',
      timeoutMs: 15_000,
    });
    expect(app.market.hub.has(TRADED, '1m')).toBe(true);
    expect(app.market.stats().timeframes.flatMap((t) => t.symbols)).toEqual([TRADED]);

    // Trading stops: nothing is left.
    await user!.caller.market.strategies.setEnabled({ id: strategy.id, enabled: false });
    await waitFor(() => app.market.kept().series === 0 && app.market.kept().known === 0, {
      what: 'the untraded series to be dropped',
      timeoutMs: 15_000,
    });

    // Three minutes close while nobody watches; a new viewer gets them (from the exchange) and the
    // live candles after them, with indicators continuing the stored history.
    const symbol = VIEWED[0]!;
    const lastBefore = (await app.market.store.latest(symbol, '1m', 1))[0]!.candle.openTime;
    fake.advance(3 * MIN);
    const again = view(user!.token, symbol);
    await untilLive([again]);
    fake.advance(MIN);
    const liveOpen = Math.floor(fake.now / MIN) * MIN - MIN;
    await waitFor(() => again.closed().some((e) => e.candle.openTime === liveOpen), {
      what: 'the re-viewer to get the next closed candle',
      timeoutMs: 15_000,
    });
    const closedOpens = again.closed().map((e) => e.candle.openTime);
    expect(closedOpens).toEqual(
      Array.from({ length: (liveOpen - lastBefore) / MIN }, (_, i) => lastBefore + (i + 1) * MIN),
    );

    const stored = await app.market.store.latest(symbol, '1m', 1000);
    const opens = stored.map((c) => c.candle.openTime);
    // Gap-free and each candle once.
    expect(opens).toEqual(Array.from({ length: opens.length }, (_, i) => opens[0]! + i * MIN));
    for (const c of stored) expect(c.candle.close).toBe(fake.candle(symbol, '1m', c.candle.openTime)!.close);
    // The rebuilt state: the indicators of the delivered candles equal a fresh run over the
    // stored history the series warms from (MARKET_HISTORY_CANDLES before the first one missed).
    const warmFrom = stored.filter((c) => c.candle.openTime <= lastBefore).slice(-app.config.MARKET_HISTORY_CANDLES);
    const state = new IndicatorState();
    for (const c of warmFrom) state.close(c.candle.openTime, c.candle.close);
    for (const e of again.closed()) {
      expect(e.indicators).toEqual(state.close(e.candle.openTime, e.candle.close));
      expect(e.indicators).toEqual(stored.find((c) => c.candle.openTime === e.candle.openTime)!.indicators);
    }
    expect(again.closed().at(-1)!.indicators.sma20).not.toBeNull();
    again.sub.unsubscribe();
    await waitFor(() => app.market.kept().series === 0, {
      what: 'the re-viewed series to be dropped again',
      timeoutMs: 15_000,
    });
  }, 60_000);
});
