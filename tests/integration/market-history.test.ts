import { describe, expect, it } from 'vitest';
import type { Candle, Indicators, LiveEvent } from '../../shared/market';
import { signUp, startTestServer } from '../helpers/app';
import { wsClient } from '../helpers/clients';
import { marketTestApp, until } from '../helpers/market';
import { skipResumePoint } from '../helpers/resume-point';

const { app, fake } = await marketTestApp();
const server = await startTestServer(app);
const MIN = 60_000;

interface Received {
  id: string | undefined;
  event: LiveEvent;
}

/** A real WebSocket client on market.live, recording every event with its tracked id. */
function watchLive(token: string, input: { symbol: string; timeframe: '1m'; lastEventId?: string }) {
  const { client } = wsClient(server.url, token);
  const got: Received[] = [];
  const sub = client.market.live.subscribe(input, {
    onData: skipResumePoint((d) => void got.push({ id: d.id, event: d.data })),
  });
  return { got, closed: () => got.filter((g) => g.event.closed), sub };
}

// Textbook formulas, written independently of the library the server uses.
function reference(closes: number[]) {
  const out: Indicators[] = [];
  const ema = (period: number, xs: number[]) => {
    const k = 2 / (period + 1);
    const r: number[] = [];
    xs.forEach((x, i) => r.push(i === 0 ? x : x * k + r[i - 1]! * (1 - k)));
    return r;
  };
  const ema9 = ema(9, closes);
  const ema21 = ema(21, closes);
  const ema12 = ema(12, closes);
  const ema26 = ema(26, closes);
  const macdLine = closes.map((_, i) => ema12[i]! - ema26[i]!).slice(25);
  const signal = ema(9, macdLine);
  let avgGain = 0;
  let avgLoss = 0;
  closes.forEach((c, i) => {
    const window = closes.slice(Math.max(0, i - 19), i + 1);
    const mean = window.reduce((a, b) => a + b, 0) / window.length;
    const sd = Math.sqrt(window.reduce((a, b) => a + (b - mean) ** 2, 0) / window.length);
    // Wilder's RSI: simple average of the first 14 moves, then smoothing by 1/14.
    if (i > 0) {
      const gain = Math.max(0, c - closes[i - 1]!);
      const loss = Math.max(0, closes[i - 1]! - c);
      if (i <= 14) {
        avgGain += gain / 14;
        avgLoss += loss / 14;
      } else {
        avgGain = (avgGain * 13 + gain) / 14;
        avgLoss = (avgLoss * 13 + loss) / 14;
      }
    }
    const m =
      i >= 25
        ? { macd: macdLine[i - 25]!, signal: signal[i - 25]!, histogram: macdLine[i - 25]! - signal[i - 25]! }
        : null;
    out.push({
      sma20: i >= 19 ? mean : null,
      ema9: i >= 8 ? ema9[i]! : null,
      ema21: i >= 20 ? ema21[i]! : null,
      rsi14: i >= 14 ? (avgLoss === 0 ? 100 : 100 - 100 / (1 + avgGain / avgLoss)) : null,
      macd: m,
      bollinger: i >= 19 ? { upper: mean + 2 * sd, middle: mean, lower: mean - 2 * sd } : null,
    });
  });
  return out;
}

function expectClose(actual: unknown, expected: unknown, path: string) {
  if (expected === null || actual === null) return expect(actual, path).toBe(expected);
  if (typeof expected === 'number')
    return expect(Math.abs((actual as number) - expected), path).toBeLessThan(1e-8 * Math.max(1, Math.abs(expected)));
  for (const k of Object.keys(expected as object))
    expectClose((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${path}.${k}`);
}

const sameCandle = (c: Candle, symbol: string, tf: string) => {
  const k = fake.candle(symbol, tf, c.openTime)!;
  return c.close === k.close && c.open === k.open && c.high === k.high && c.low === k.low;
};

describe('market history', () => {
  it('backfills history from REST on first request: closed candles only, as the exchange has them', async () => {
    const { caller } = await signUp(app);
    const { candles } = await caller.market.candles({ symbol: 'ethusdt', timeframe: '5m', limit: 120 });
    expect(candles).toHaveLength(120);
    const current = Math.floor(fake.now / 300_000) * 300_000;
    expect(candles.at(-1)!.candle.openTime).toBe(current - 300_000);
    expect(candles.every((c, i) => i === 0 || c.candle.openTime - candles[i - 1]!.candle.openTime === 300_000)).toBe(
      true,
    );
    expect(candles.every((c) => sameCandle(c.candle, 'ETHUSDT', '5m'))).toBe(true);
  });

  it('drives every timeframe from one price path: 5m candles are their five 1m candles, and every forming candle shows one price', async () => {
    const { caller } = await signUp(app);
    // A symbol no other test here uses: fetching its history must not change what they expect.
    const [one, five] = await Promise.all([
      caller.market.candles({ symbol: 'ADAUSDT', timeframe: '1m', limit: 60 }),
      caller.market.candles({ symbol: 'ADAUSDT', timeframe: '5m', limit: 12 }),
    ]);
    const byOpen = new Map(one.candles.map((c) => [c.candle.openTime, c.candle]));
    let compared = 0;
    for (const { candle: k } of five.candles) {
      const parts = [0, 1, 2, 3, 4].map((i) => byOpen.get(k.openTime + i * MIN));
      if (parts.some((p) => !p)) continue;
      const ps = parts as Candle[];
      expect(k.open).toBe(ps[0]!.open);
      expect(k.close).toBe(ps[4]!.close);
      expect(k.high).toBe(Math.max(...ps.map((p) => p.high)));
      expect(k.low).toBe(Math.min(...ps.map((p) => p.low)));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(10);
    const price = fake.forming('ADAUSDT', '1m').close;
    for (const tf of ['5m', '15m', '1h', '4h', '1d']) expect(fake.forming('ADAUSDT', tf).close).toBe(price);
  });

  it('computes indicators equal to an independent computation, through forming updates and closes', async () => {
    const { caller, token } = await signUp(app);
    const viewer = watchLive(token, { symbol: 'SOLUSDT', timeframe: '1m' });
    await until(() => fake.subscriptions().includes('solusdt@kline_1m'), 'the upstream subscription');
    for (let i = 0; i < 6; i++) {
      fake.advance(20_000);
      fake.advance(20_000);
      fake.advance(20_000);
    }
    await until(() => viewer.closed().length >= 6, 'six closed candles');
    const { candles } = await caller.market.candles({ symbol: 'SOLUSDT', timeframe: '1m', limit: 1000 });
    expect(candles.length).toBeGreaterThan(300);
    const expected = reference(candles.map((c) => c.candle.close));
    candles.forEach((c, i) => expectClose(c.indicators, expected[i], `candle ${i}`));
    // What was pushed live is what was stored.
    const stored = new Map(candles.map((c) => [String(c.id), c]));
    for (const g of viewer.closed()) expect(g.event.indicators).toEqual(stored.get(g.id!)!.indicators);
    expect(viewer.got.some((g) => !g.event.closed && g.event.indicators.sma20 !== null)).toBe(true);
    viewer.sub.unsubscribe();
  });

  it('after a 3-minute outage, history has every candle of the gap and a resuming client gets each missed candle once', async () => {
    const { caller, token } = await signUp(app);
    const steady = watchLive(token, { symbol: 'BTCUSDT', timeframe: '1m' });
    const resumer = watchLive(token, { symbol: 'BTCUSDT', timeframe: '1m' });
    await until(() => fake.subscriptions().includes('btcusdt@kline_1m'), 'the upstream subscription');
    fake.advance(MIN);
    fake.advance(MIN);
    await until(() => resumer.closed().length >= 2, 'two closed candles');
    const lastSeen = resumer.closed().at(-1)!;
    resumer.sub.unsubscribe();
    const opened = fake.counters.connectionsOpened;

    fake.outage();
    await until(() => app.market.feed.openConnections() === 0, 'the feed to notice the outage');
    fake.advance(MIN);
    fake.advance(MIN);
    fake.advance(MIN);
    fake.restore();
    await until(
      () => app.market.feed.openConnections() === 1 && fake.subscriptions().includes('btcusdt@kline_1m'),
      'the reconnect',
    );
    fake.advance(MIN);
    const newest = Math.floor(fake.now / MIN) * MIN - MIN;
    await until(
      () => steady.closed().some((g) => g.event.candle.openTime === newest),
      'the first candle after the outage',
    );
    expect(fake.counters.connectionsOpened).toBe(opened + 1);

    const { candles } = await caller.market.candles({ symbol: 'BTCUSDT', timeframe: '1m', limit: 1000 });
    const times = candles.map((c) => c.candle.openTime);
    const from = lastSeen.event.candle.openTime;
    const expectedGap = [1, 2, 3, 4].map((i) => from + i * MIN);
    expect(times.slice(-5)).toEqual([from, ...expectedGap]);
    expect(times.every((t, i) => i === 0 || t - times[i - 1]! === MIN)).toBe(true);
    expect(candles.slice(-5).every((c) => sameCandle(c.candle, 'BTCUSDT', '1m'))).toBe(true);

    // The steady viewer got every closed candle once, in order, the gap included.
    const steadyTimes = steady.closed().map((g) => g.event.candle.openTime);
    expect(steadyTimes.slice(-5)).toEqual([from, ...expectedGap]);
    expect(new Set(steadyTimes).size).toBe(steadyTimes.length);

    const back = watchLive(token, { symbol: 'BTCUSDT', timeframe: '1m', lastEventId: lastSeen.id });
    await until(() => back.closed().length >= 4, 'the replay');
    // One more live candle: anything the replay would send twice arrives before it.
    fake.advance(MIN);
    await until(() => back.closed().length >= 5, 'the candle after the replay');
    const replayed = back.closed().slice(0, -1);
    expect(replayed.map((g) => g.event.candle.openTime)).toEqual(expectedGap);
    expect(replayed.map((g) => g.id)).toEqual(candles.slice(-4).map((c) => String(c.id)));
    expect(back.closed().at(-1)!.event.candle.openTime).toBe(from + 5 * MIN);
    back.sub.unsubscribe();
    steady.sub.unsubscribe();
  });

  it('when the gap backfill fails twice after an outage, it retries with back-off: history has no hole and indicators stay exact', async () => {
    const { caller, token } = await signUp(app);
    const viewer = watchLive(token, { symbol: 'ETHUSDT', timeframe: '1m' });
    await until(() => fake.subscriptions().includes('ethusdt@kline_1m'), 'the upstream subscription');
    fake.advance(MIN);
    await until(() => viewer.closed().length >= 1, 'a closed candle');
    const from = viewer.closed().at(-1)!.event.candle.openTime;

    fake.outage();
    await until(() => !app.market.feed.isLive('ETHUSDT', '1m'), 'the feed to notice the outage');
    fake.advance(MIN);
    fake.advance(MIN);
    fake.advance(MIN);
    // Two whole backfills fail: each REST call tries 3 times (the test policy's 2 retries) before it gives up.
    const requests = fake.counters.restRequests;
    fake.failRestNext(503, 8);
    fake.restore();
    await until(
      // On a connection the app still holds (see untilSubscribed): the fake lists the old one
      // until its close arrives, and a candle sent there goes nowhere.
      () =>
        app.market.feed.isLive('ETHUSDT', '1m') &&
        fake.subscriptions().includes('ethusdt@kline_1m') &&
        fake.openConnections === app.market.feed.openConnections(),
      'the reconnect',
    );
    fake.advance(MIN);
    const newest = Math.floor(fake.now / MIN) * MIN - MIN;
    await until(
      () => viewer.closed().some((g) => g.event.candle.openTime === newest),
      'the first candle after the outage',
      30_000,
    );
    expect(fake.counters.restRequests - requests).toBeGreaterThan(8);

    const { candles } = await caller.market.candles({ symbol: 'ETHUSDT', timeframe: '1m', limit: 1000 });
    const times = candles.map((c) => c.candle.openTime);
    expect(times.slice(-5)).toEqual([0, 1, 2, 3, 4].map((i) => from + i * MIN));
    expect(times.every((t, i) => i === 0 || t - times[i - 1]! === MIN)).toBe(true);
    expect(candles.slice(-5).every((c) => sameCandle(c.candle, 'ETHUSDT', '1m'))).toBe(true);
    // No forming price was kept as if it had closed: every stored value matches a clean run.
    const expected = reference(candles.map((c) => c.candle.close));
    candles.forEach((c, i) => expectClose(c.indicators, expected[i], `candle ${i}`));
    // The viewer got each candle of the gap once, in order, and nothing past the hole before it was filled.
    const seen = viewer.closed().map((g) => g.event.candle.openTime);
    expect(seen.slice(seen.indexOf(from))).toEqual([0, 1, 2, 3, 4].map((i) => from + i * MIN));
    viewer.sub.unsubscribe();
  });

  it('coalesces a burst of forming updates: only the newest is applied, not a queue of stale ticks', async () => {
    const { token } = await signUp(app);
    const viewer = watchLive(token, { symbol: 'XRPUSDT', timeframe: '1m' });
    await until(() => fake.subscriptions().includes('xrpusdt@kline_1m'), 'the upstream subscription');
    await app.market.settled('XRPUSDT', '1m');
    const forming = fake.forming('XRPUSDT', '1m');
    // 1,000 updates in one go, as a burst of exchange messages behind a slow database would be.
    for (let i = 1; i <= 1000; i++)
      app.market.hub.onKline('XRPUSDT', '1m', { ...forming, close: forming.open + i / 1e6 }, false);
    const newest = forming.open + 1000 / 1e6;
    await until(() => viewer.got.some((g) => g.event.candle.close === newest), 'the newest price');
    await app.market.settled('XRPUSDT', '1m');
    const burst = viewer.got.filter(
      (g) => !g.event.closed && g.event.candle.openTime === forming.openTime && g.event.candle.close > forming.open,
    );
    expect(burst.length).toBeLessThanOrEqual(2);
    expect(burst.at(-1)!.event.candle.close).toBe(newest);
    viewer.sub.unsubscribe();
  });

  it('refuses bad input with BAD_REQUEST', async () => {
    const { caller } = await signUp(app);
    await expect(caller.market.candles({ symbol: 'BTC', timeframe: '1m' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(caller.market.candles({ symbol: 'BTCUSDT', timeframe: '2m' as '1m' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(caller.market.candles({ symbol: 'BTCUSDT', timeframe: '1m', limit: 5000 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(caller.market.candles({ symbol: 'NOSUCHCOIN', timeframe: '1m' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('NOSUCHCOIN'),
    });
    // Nor is an unknown symbol watched upstream.
    const live = await caller.market.live({ symbol: 'NOSUCHCOIN', timeframe: '1m' });
    await expect(live[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(caller.market.live({ symbol: 'BTCUSDT', timeframe: '1m', lastEventId: 'abc' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(fake.subscriptions().some((s) => s.startsWith('nosuchcoin'))).toBe(false);
  });
});
