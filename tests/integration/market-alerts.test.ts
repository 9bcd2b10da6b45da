import { count, eq } from 'drizzle-orm';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createApp, type App } from '../../server/app';
import { loadConfig } from '../../server/config';
import type { Database } from '../../server/db/client';
import { inboxEvents, marketAlerts } from '../../server/db/schema';
import { FakeBinance } from '../../server/demo/binance';
import type { AlertCondition, AlertFiredEvent } from '../../shared/market-alerts';
import { MAX_ALERTS_PER_USER } from '../../shared/market-alerts';
import type { Notification } from '../../shared/system';
import { callerForToken, signUp, TEST_HASH_COST, testVaultKey, type Caller } from '../helpers/app';
import { afterThis } from '../helpers/cleanup';
import { createTestDatabase, reopenableDatabase } from '../helpers/db';
import { BUSES, startInstance, uniqueChannel, type Instance } from '../helpers/cluster';
import { httpClient } from '../helpers/clients';
import { rejection } from '../helpers/errors';
import { FAKE_START, marketTestApp, startFakeBinance, untilSubscribed } from '../helpers/market';
import { crossingAhead, firedEvents, meets, step } from '../helpers/market-alerts';
import { isResumePointEnvelope } from '../helpers/resume-point';
import { waitFor } from '../helpers/wait';

const MIN = 60_000;
const { app, fake } = await marketTestApp();

/**
 * Steps the exchange 15 s at a time until the alert fires, checking on every forming update
 * that it is armed exactly while the price does not meet its condition. Returns the price it fired at.
 */
async function stepUntilFired(
  on: { app: App; fake: FakeBinance },
  caller: Caller,
  id: number,
  symbol: string,
  c: AlertCondition,
  steps = 600,
) {
  for (let i = 0; i < steps; i++) {
    const price = await step(on.app, on.fake, symbol);
    const alert = (await caller.market.alerts.list()).items.find((a) => a.id === id)!;
    if (!meets(c, price)) {
      expect(alert.state, `armed at ${price} (${c.type} ${c.value})`).toBe('armed');
      continue;
    }
    expect(alert).toMatchObject({ state: 'fired', firedValue: price });
    return price;
  }
  throw new Error(`the alert did not fire within ${steps} steps`);
}

async function collect(iterable: AsyncIterable<unknown>, into: Notification[]) {
  try {
    for await (const e of iterable) {
      if (isResumePointEnvelope(e)) continue;
      // Through createCaller a tracked event arrives as its [id, data] envelope.
      into.push((Array.isArray(e) ? e[1] : e) as Notification);
    }
  } catch {
    // ended with the app
  }
}

describe('market alerts', () => {
  it('fires a price alert once, on the forming update that crosses it, with nobody watching; it stays fired until re-armed', async () => {
    const { caller, user } = await signUp(app);
    const inbox: Notification[] = [];
    void collect(await caller.system.notifications(), inbox);
    const condition = crossingAhead(fake, 'BTCUSDT', 0.05);
    const alert = await caller.market.alerts.create({ symbol: 'btcusdt', timeframe: '1m', condition });
    expect(alert).toMatchObject({ symbol: 'BTCUSDT', timeframe: '1m', condition, state: 'armed', firedAt: null });

    // Nobody views the chart: the armed alert alone keeps the series watched upstream.
    await untilSubscribed(app, fake, 'btcusdt@kline_1m');
    expect(app.market.stats().totalSubscriptions).toBe(0);
    const price = await stepUntilFired({ app, fake }, caller, alert.id, 'BTCUSDT', condition);

    const events = await firedEvents(app.db, user.id);
    expect(events).toHaveLength(1);
    expect(events[0]!.alert).toMatchObject({ id: alert.id, state: 'fired', firedValue: price });
    expect(events[0]!.message).toMatch(/^Alert: BTCUSDT 1m price (above|below) /);
    // In the app-wide inbox, live, with the message the toast shows.
    const live = await waitFor(() => inbox.find((n) => n.type === 'alert_fired'), { what: 'alert_fired live' });
    expect(live).toMatchObject({ feature: 'market', payload: { message: events[0]!.message } });

    // Its last armed alert gone, the series is let go upstream.
    await waitFor(() => !fake.subscriptions().includes('btcusdt@kline_1m'), { what: 'the series released' });
    // Fired stays fired, whatever the price does next (a viewer keeps the candles coming).
    const viewing = app.market.feed.watch('BTCUSDT', '1m');
    afterThis(viewing);
    await untilSubscribed(app, fake, 'btcusdt@kline_1m');
    for (let i = 0; i < 12; i++) await step(app, fake, 'BTCUSDT');
    expect((await caller.market.alerts.list()).items[0]!.state).toBe('fired');
    expect(await firedEvents(app.db, user.id)).toHaveLength(1);

    // Re-armed, it fires again the next time the price meets it, once.
    expect(await caller.market.alerts.rearm({ id: alert.id })).toMatchObject({ state: 'armed', firedAt: null });
    viewing();
    await stepUntilFired({ app, fake }, caller, alert.id, 'BTCUSDT', condition);
    expect(await firedEvents(app.db, user.id)).toHaveLength(2);
    await waitFor(() => inbox.filter((n) => n.type === 'alert_fired').length === 2, { what: 'both events live' });
  });

  it('fires an RSI alert on a closed candle, at that candle’s RSI 14', async () => {
    const { caller, user } = await signUp(app);
    // A series nothing else in this file watches, so its first candles come from this alert.
    const symbol = 'ETHUSDT';
    await caller.market.candles({ symbol, timeframe: '1m', limit: 50 });
    const rsi = (await app.market.store.latest(symbol, '1m', 1))[0]!.indicators.rsi14!;
    // Both sides a little away from the current RSI: the next few closes cross one of them.
    const above = await caller.market.alerts.create({
      symbol,
      timeframe: '1m',
      condition: { type: 'rsi_above', value: Math.min(100, rsi + 1) },
    });
    const below = await caller.market.alerts.create({
      symbol,
      timeframe: '1m',
      condition: { type: 'rsi_below', value: Math.max(0, rsi - 1) },
    });
    await untilSubscribed(app, fake, 'ethusdt@kline_1m');
    let fired = null;
    for (let i = 0; i < 120 && !fired; i++) {
      fake.advance(MIN);
      const openTime = Math.floor(fake.now / MIN) * MIN - MIN;
      const closed = await waitFor(
        async () => (await app.market.store.latest(symbol, '1m', 1)).find((c) => c.candle.openTime === openTime),
        { what: 'the closed candle' },
      );
      await app.market.settled(symbol, '1m');
      const r = closed.indicators.rsi14!;
      const items = (await caller.market.alerts.list()).items;
      const a = items.find((x) => x.id === above.id)!;
      const b = items.find((x) => x.id === below.id)!;
      expect(a.state).toBe(r > above.condition.value || a.firedValue !== null ? 'fired' : 'armed');
      expect(b.state).toBe(r < below.condition.value || b.firedValue !== null ? 'fired' : 'armed');
      fired = [a, b].find((x) => x.firedValue === r) ?? null;
    }
    expect(fired, 'an RSI alert fired at a closed candle’s RSI').not.toBeNull();
    const events = await firedEvents(app.db, user.id);
    expect(events.map((e) => e.alert.id)).toEqual([fired!.id]);
    expect(events[0]!.message).toMatch(/^Alert: ETHUSDT 1m RSI (above|below) /);
  });

  it('refuses bad input in words: an unknown symbol, RSI outside 0–100, a price not above 0, no such condition', async () => {
    const { caller } = await signUp(app);
    const bad: [unknown, RegExp][] = [
      [{ symbol: 'BTCUSDT', timeframe: '1m', condition: { type: 'rsi_above', value: 101 } }, /RSI level .* 0 to 100/],
      [{ symbol: 'BTCUSDT', timeframe: '1m', condition: { type: 'rsi_below', value: -1 } }, /RSI level .* 0 to 100/],
      [{ symbol: 'BTCUSDT', timeframe: '1m', condition: { type: 'price_above', value: 0 } }, /above 0/],
      [{ symbol: 'BTCUSDT', timeframe: '1m', condition: { type: 'price_below', value: -5 } }, /above 0/],
      [{ symbol: 'BTCUSDT', timeframe: '1m', condition: { type: 'volume_above', value: 1 } }, /Choose a condition/],
      [{ symbol: 'BTCUSDT', timeframe: '2m', condition: { type: 'price_above', value: 1 } }, /Timeframe must be/],
      [{ symbol: 'B', timeframe: '1m', condition: { type: 'price_above', value: 1 } }, /symbol/i],
    ];
    for (const [input, message] of bad) {
      const err = await rejection(caller.market.alerts.create(input as never));
      expect(err.code).toBe('BAD_REQUEST');
      expect(err.message).toMatch(message);
    }
    // Well formed, but the exchange does not list it.
    const unknown = await rejection(
      caller.market.alerts.create({
        symbol: 'NOSUCHCOIN',
        timeframe: '1m',
        condition: { type: 'price_above', value: 1 },
      }),
    );
    expect(unknown.code).toBe('BAD_REQUEST');
    expect(unknown.message).toMatch(/NOSUCHCOIN/);
    expect((await rejection(caller.market.alerts.remove({ id: 0 }))).code).toBe('BAD_REQUEST');
    expect((await caller.market.alerts.list()).items).toEqual([]);
  });

  it("keeps each user's alerts to themselves: another user's alert is NOT_FOUND and never listed", async () => {
    const alice = await signUp(app, { name: 'Alice' });
    const bob = await signUp(app, { name: 'Bob' });
    const mine = await alice.caller.market.alerts.create({
      symbol: 'BTCUSDT',
      timeframe: '1h',
      condition: { type: 'price_below', value: 1 },
    });
    await expect(bob.caller.market.alerts.remove({ id: mine.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(bob.caller.market.alerts.rearm({ id: mine.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await bob.caller.market.alerts.list()).items).toEqual([]);
    expect((await bob.caller.market.alerts.list({ cursor: 1 })).items).toEqual([]);
    expect((await alice.caller.market.alerts.list()).items.map((a) => a.id)).toEqual([mine.id]);
    expect(await alice.caller.market.alerts.remove({ id: mine.id })).toEqual({ id: mine.id });
    await expect(alice.caller.market.alerts.remove({ id: mine.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(app.market.alertWatch.book.has(mine.id)).toBe(false);
  });

  it(`keeps at most ${MAX_ALERTS_PER_USER} alerts per account and meters writes per minute`, async () => {
    const { caller, user } = await signUp(app);
    // The count limit, with the account one short of it (rows as create writes them).
    await app.db.insert(marketAlerts).values(
      Array.from({ length: MAX_ALERTS_PER_USER - 1 }, (_, i) => ({
        userId: user.id,
        symbol: 'BTCUSDT',
        timeframe: '1d' as const,
        type: 'price_below' as const,
        value: i + 1,
      })),
    );
    const input = { symbol: 'BTCUSDT', timeframe: '1d', condition: { type: 'price_below', value: 1 } } as const;
    await caller.market.alerts.create(input);
    const full = await rejection(caller.market.alerts.create(input));
    expect(full.code).toBe('CONFLICT');
    expect(full.message).toMatch(new RegExp(`${MAX_ALERTS_PER_USER} alerts.*remove one`));
    const [{ n }] = (await app.db
      .select({ n: count() })
      .from(marketAlerts)
      .where(eq(marketAlerts.userId, user.id))) as [{ n: number }];
    expect(n).toBe(MAX_ALERTS_PER_USER);

    // The rate: 60 writes a minute, counted before the work (concurrent calls cannot all pass).
    const other = await signUp(app);
    const answers = await Promise.allSettled(
      Array.from({ length: 64 }, () => other.caller.market.alerts.create(input)),
    );
    const refused = answers.filter((a) => a.status === 'rejected').map((a) => (a.reason as { code: string }).code);
    expect(answers.filter((a) => a.status === 'fulfilled')).toHaveLength(60);
    expect(refused).toEqual(Array(4).fill('TOO_MANY_REQUESTS'));
  });
});

describe('market alerts across a restart', () => {
  it('a fired alert stays fired (no second event), an armed one fires after the restart, once', async () => {
    // An exchange of its own: untilSubscribed compares its connections with one app's.
    const fake = await startFakeBinance();
    const open = await reopenableDatabase('alerts');
    const boot = async (database: Database) => {
      const booted = await createApp(
        loadConfig({
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
        }),
        { database },
      );
      let closing: Promise<void> | null = null;
      const close = () => (closing ??= booted.close());
      afterThis(close);
      return { app: booted, close };
    };
    const symbol = 'SOLUSDT';
    const { app: first, close: closeFirst } = await boot(await open());
    const { caller, user, token } = await signUp(first);
    const a = crossingAhead(fake, symbol, 0.05);
    const fired = await caller.market.alerts.create({ symbol, timeframe: '1m', condition: a });
    await untilSubscribed(first, fake, 'solusdt@kline_1m');
    await stepUntilFired({ app: first, fake }, caller, fired.id, symbol, a);
    const b = crossingAhead(fake, symbol, 0.05);
    const armed = await caller.market.alerts.create({ symbol, timeframe: '1m', condition: b });
    await closeFirst();

    const { app: second } = await boot(await open());
    const again = await callerForToken(second, token);
    // Nothing but the stored armed alert brings the series back upstream.
    await untilSubscribed(second, fake, 'solusdt@kline_1m');
    await waitFor(() => second.market.alertWatch.book.has(armed.id), { what: 'the armed alert loaded' });
    expect(second.market.alertWatch.book.has(fired.id)).toBe(false);
    await stepUntilFired({ app: second, fake }, again, armed.id, symbol, b);
    // Both fired: a viewer keeps the candles coming, and neither fires again.
    const viewing = second.market.feed.watch(symbol, '1m');
    afterThis(viewing);
    await untilSubscribed(second, fake, 'solusdt@kline_1m');
    for (let i = 0; i < 8; i++) await step(second, fake, symbol);
    const events = await firedEvents(second.db, user.id);
    expect(events.map((e) => e.alert.id)).toEqual([fired.id, armed.id]);
  });
});

describe.skipIf(!process.env.DATABASE_URL)(
  'market alerts on two instances (skipped on PGlite: one embedded database is one process)',
  () => {
    it.each(BUSES)(
      'fire exactly once over $bus, created through either instance, also after the Binance connection moves',
      async ({ env }) => {
        const database = await createTestDatabase();
        onTestFinished(() => database.close());
        const binance = await FakeBinance.start({ start: FAKE_START });
        onTestFinished(() => binance.close());
        const common = {
          DATABASE_URL: database.url!,
          BUS_CHANNEL: uniqueChannel(),
          UPSTREAMS: 'live',
          ...binance.env,
          MARKET_RECONNECT_MIN_MS: '20',
          MARKET_RECONNECT_MAX_MS: '200',
          MARKET_SYMBOL_GRACE_MS: '100',
          CLUSTER_ELECTION_MS: '300',
          VAULT_AUTO_REFRESH_ENABLED: 'false',
          ...env,
        };
        const [a, b]: [Instance, Instance] = await Promise.all([
          startInstance('a', common),
          startInstance('b', common),
        ]);
        // The first account is an administrator: it may read system.stats (who holds the connection).
        const { token } = await httpClient(a.url).auth.signUp.mutate({
          email: 'alerts-admin@example.com',
          password: 'cluster password',
          name: 'Admin',
        });
        const through = { a: httpClient(a.url, token), b: httpClient(b.url, token) };
        // Levels crossed one after another as the price moves, created half through each instance.
        const created = [];
        for (const [i, pct] of [0.03, 0.06, 0.1, 0.15].entries())
          created.push(
            await through[i % 2 ? 'b' : 'a'].market.alerts.create.mutate({
              symbol: 'BTCUSDT',
              timeframe: '1m',
              condition: crossingAhead(binance, 'BTCUSDT', pct),
            }),
          );
        await waitFor(() => binance.subscriptions().includes('btcusdt@kline_1m'), { what: 'the series carried' });
        const fired = async () => (await through.a.market.alerts.list.query()).items.filter((x) => x.state === 'fired');
        await waitFor(
          async () => {
            binance.advance(30_000);
            return (await fired()).length >= 1;
          },
          { what: 'the first alert to fire', intervalMs: 100, timeoutMs: 120_000 },
        );

        // The instance holding the Binance connection (where the series is evaluated) dies.
        const stats = await waitFor(
          async () => {
            const st = await through.a.system.stats.query();
            return st.cluster.leaders['binance:1m'] ? st : null;
          },
          { what: 'a holder of the 1m connection' },
        );
        const holder = stats.cluster.leaders['binance:1m'];
        const [dead, survivor] = holder === 'a' ? [a, 'b' as const] : [b, 'a' as const];
        dead.child.kill('SIGKILL');
        await dead.exited;
        await waitFor(() => binance.openConnections === 1 && binance.subscriptions().includes('btcusdt@kline_1m'), {
          what: 'the survivor to connect',
        });
        await waitFor(
          async () => {
            binance.advance(30_000);
            return (await through[survivor].market.alerts.list.query()).items.every((x) => x.state === 'fired');
          },
          { what: 'every alert to fire', intervalMs: 100, timeoutMs: 120_000 },
        );
        const events = await database.db.select().from(inboxEvents).where(eq(inboxEvents.type, 'alert_fired'));
        const ids = events.map((e) => (e.payload as AlertFiredEvent['payload']).alert.id).sort((x, y) => x - y);
        expect(ids).toEqual(created.map((c) => c.id).sort((x, y) => x - y));
      },
      180_000,
    );
  },
);
