import { randomUUID } from 'node:crypto';
import type { App } from '../../server/app';
import { createSession, generateSessionToken } from '../../server/modules/auth/session';
import { users } from '../../server/db/schema';
import { FakeBinance, type FakeBinanceOptions } from '../../server/demo/binance';
import type { ZStrategyCreateInput } from '../../shared/market';
import type { z } from 'zod';
import { callerForToken, createTestApp, type Caller } from './app';
import { waitFor } from './wait';
import { afterThis } from './cleanup';

/** A fixed, day-aligned exchange clock so every timeframe's candles line up in every run. */
export const FAKE_START = Date.UTC(2025, 0, 6, 0, 0, 30);

/**
 * A strategy that enters on almost any closed candle (RSI below 98) and exits on the next one
 * (0.01 % take-profit or stop-loss): trades, positions and activity events every few candles.
 */
export const eagerStrategy = (name: string): z.input<typeof ZStrategyCreateInput> => ({
  name,
  symbol: 'BTCUSDT',
  timeframe: '1m',
  rule: { type: 'rsi', oversold: 98, overbought: 99 },
  positionSize: 1000,
  takeProfitPct: 0.01,
  stopLossPct: 0.01,
  enabled: true,
});

/** A fake Binance on loopback, closed after the file's tests (after the app: hooks run in reverse). */
export async function startFakeBinance(opts: FakeBinanceOptions = {}) {
  const fake = await FakeBinance.start({ start: FAKE_START, ...opts });
  afterThis(() => fake.close());
  return fake;
}

/** The fake exchange and an app whose adapters point at it, with short feed timings. */
export async function marketTestApp(
  env: Record<string, string> = {},
  fakeOpts: FakeBinanceOptions = {},
  appOpts: Parameters<typeof createTestApp>[1] = {},
) {
  const fake = await startFakeBinance(fakeOpts);
  const app = await createTestApp(
    {
      ...fake.env,
      MARKET_SYMBOL_GRACE_MS: '100',
      MARKET_RECONNECT_MIN_MS: '20',
      MARKET_RECONNECT_MAX_MS: '200',
      ...env,
    },
    appOpts,
  );
  return { app, fake };
}

/**
 * Many accounts at once, skipping scrypt (sign-up's password hash costs ~0.1 s per account);
 * the sessions are real ones, created the way sign-up creates them.
 */
export async function quickUsers(app: App, n: number) {
  const rows = Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    email: `viewer-${i}-${randomUUID().slice(0, 6)}@example.com`,
    name: `Viewer ${i}`,
  }));
  await app.db.insert(users).values(rows);
  return Promise.all(
    rows.map(async (u) => {
      const token = generateSessionToken();
      await createSession(app.db, token, u.id);
      return { user: u, token, caller: await callerForToken(app, token) };
    }),
  );
}

/** The older name of waitFor, kept for the market tests that use it. */
export function until<T>(check: () => T | Promise<T>, what: string, timeoutMs?: number): Promise<NonNullable<T>> {
  return waitFor(check, { what, timeoutMs });
}

/**
 * Resolves once every viewer has received a forming-candle update, so each one's stream is
 * attached to the series live: a closed candle pushed after this reaches all of them. Seeing the
 * series subscribed upstream is not enough, since a strategy or another viewer may have caused it.
 * `advance(0)` re-sends the forming candle without moving the exchange clock.
 */
export function untilViewersLive(fake: FakeBinance, viewersLive: (() => boolean)[]) {
  return waitFor(
    () => {
      if (viewersLive.every((live) => live())) return true;
      fake.advance(0);
      return false;
    },
    { what: 'every viewer to receive a forming candle', intervalMs: 100 },
  );
}

/**
 * Resolves once `stream` is subscribed on a connection the app still holds. The fake forgets a
 * connection the app has just dropped only when the close reaches it, so its list alone can
 * still show a series released a moment ago, whose candles would go nowhere.
 */
export function untilSubscribed(app: App, fake: FakeBinance, stream: string) {
  return waitFor(
    () => fake.subscriptions().includes(stream) && fake.openConnections === app.market.feed.openConnections(),
    {
      what: `${stream} subscribed upstream on a live connection`,
    },
  );
}

/** Enters on almost any candle and, with levels 40 % away, stays open until the test acts. */
export const holdingStrategy = (name: string, symbol = 'BTCUSDT'): z.input<typeof ZStrategyCreateInput> => ({
  name,
  symbol,
  timeframe: '1m',
  rule: { type: 'rsi', oversold: 98, overbought: 99 },
  positionSize: 1000,
  takeProfitPct: 40,
  stopLossPct: 40,
  enabled: true,
});

/**
 * Advances the exchange one 1m candle at a time until the caller holds a position for the
 * strategy, and returns it. The strategy must trade `symbol` on 1m.
 */
export async function openPosition(
  app: App,
  fake: FakeBinance,
  caller: Caller,
  strategyId: number,
  symbol = 'BTCUSDT',
) {
  const MIN = 60_000;
  await untilSubscribed(app, fake, `${symbol.toLowerCase()}@kline_1m`);
  for (let i = 0; i < 5; i++) {
    fake.advance(MIN);
    await until(
      async () =>
        (await app.market.store.latest(symbol, '1m', 1))[0]?.candle.openTime === Math.floor(fake.now / MIN) * MIN - MIN,
      'the candle',
    );
    await app.market.settled(symbol, '1m');
    const position = (await caller.market.positions()).find((p) => p.strategyId === strategyId);
    if (position) return position;
  }
  throw new Error('no position opened');
}
