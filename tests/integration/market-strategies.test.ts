import { TRPCError, type inferProcedureInput } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import type { Trade } from '../../shared/market';
import type { Notification } from '../../shared/system';
import type { AppRouter } from '../../server/router';
import { signUp } from '../helpers/app';
import { rejection } from '../helpers/errors';
import { marketTestApp, until, eagerStrategy } from '../helpers/market';
import { isResumePointEnvelope } from '../helpers/resume-point';

const { app, fake } = await marketTestApp();
const MIN = 60_000;

/** The trade an eager strategy must have made, recomputed from the fake exchange's series alone. */
function expectTradeFromExchange(t: Trade) {
  const entryCandle = fake.candle(t.symbol, t.timeframe, t.openedAt.getTime() - MIN)!;
  const exitCandle = fake.candle(t.symbol, t.timeframe, t.closedAt.getTime() - MIN)!;
  const entry = entryCandle.close;
  const stop = entry * (1 - 0.01 / 100);
  const target = entry * (1 + 0.01 / 100);
  const [reason, exit] =
    exitCandle.low <= stop
      ? ['stop_loss', stop]
      : exitCandle.high >= target
        ? ['take_profit', target]
        : ['signal', exitCandle.close];
  expect(t.entryPrice).toBe(entry);
  expect(t.reason).toBe(reason);
  expect(t.exitPrice).toBeCloseTo(exit, 6);
  expect(t.pnl).toBeCloseTo((exit - entry) * (1000 / entry), 6);
}
type CreateInput = inferProcedureInput<AppRouter['market']['strategies']['create']>;

const eager = eagerStrategy;

async function collect(iterable: AsyncIterable<unknown>, into: Notification[], signal: AbortSignal) {
  try {
    for await (const e of iterable) {
      if (isResumePointEnvelope(e)) continue;
      // Through createCaller a tracked event arrives as its [id, data] envelope.
      into.push((Array.isArray(e) ? e[1] : e) as Notification);
      if (signal.aborted) break;
    }
  } catch {
    // ended by abort
  }
}

describe('market strategies', () => {
  it('gives a new account 3 default strategies on each of the 6 timeframes', async () => {
    const { caller } = await signUp(app);
    const { items: list, nextCursor } = await caller.market.strategies.list();
    expect(nextCursor).toBeNull();
    expect(list).toHaveLength(18);
    const perTf = new Map<string, number>();
    for (const s of list) perTf.set(s.timeframe, (perTf.get(s.timeframe) ?? 0) + 1);
    expect([...perTf.keys()].sort()).toEqual(['15m', '1d', '1h', '1m', '4h', '5m']);
    expect([...perTf.values()].every((n) => n === 3)).toBe(true);
    expect(list.every((s) => !s.enabled)).toBe(true);
  });

  it('creates, updates, toggles and removes; names are unique per timeframe; bad input is BAD_REQUEST', async () => {
    const { caller } = await signUp(app);
    const s = await caller.market.strategies.create({ ...eager('Mine'), enabled: false });
    expect(s).toMatchObject({ name: 'Mine', symbol: 'BTCUSDT', enabled: false });
    await expect(caller.market.strategies.create({ ...eager('Mine'), enabled: false })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(
      (await caller.market.strategies.create({ ...eager('Mine'), timeframe: '5m', enabled: false })).timeframe,
    ).toBe('5m');
    expect(await caller.market.strategies.update({ id: s.id, takeProfitPct: 5, symbol: 'ethusdt' })).toMatchObject({
      takeProfitPct: 5,
      symbol: 'ETHUSDT',
    });
    expect((await caller.market.strategies.setEnabled({ id: s.id, enabled: true })).enabled).toBe(true);
    await caller.market.strategies.remove({ id: s.id });
    expect((await caller.market.strategies.list()).items.some((x) => x.id === s.id)).toBe(false);

    // A clash caused by the timeframe alone names the strategy that clashes.
    const five = await caller.market.strategies.create({ ...eager('Swing'), timeframe: '5m', enabled: false });
    await caller.market.strategies.create({ ...eager('Swing'), timeframe: '15m', enabled: false });
    const clash = await rejection(caller.market.strategies.update({ id: five.id, timeframe: '15m' }));
    expect(clash.code).toBe('CONFLICT');
    expect(clash.message).toContain('"Swing"');

    const bad: unknown[] = [
      { ...eager('x'), symbol: 'b$d' },
      { ...eager('x'), timeframe: '2m' },
      { ...eager('x'), positionSize: -1 },
      { ...eager('x'), name: ' ' },
      { ...eager('x'), rule: { type: 'rsi', oversold: 70, overbought: 30 } },
      { ...eager('x'), rule: { type: 'bogus' } },
    ];
    for (const input of bad)
      await expect(caller.market.strategies.create(input as CreateInput)).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
    await expect(caller.market.trades({ cursor: -3 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(caller.market.strategies.setEnabled({ id: 0, enabled: true })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('trades each user on paper in isolation: own positions, trades, events; another user’s strategy is NOT_FOUND', async () => {
    const alice = await signUp(app, { name: 'Alice' });
    const bob = await signUp(app, { name: 'Bob' });
    const sa = await alice.caller.market.strategies.create(eager('Scalper'));
    const sb = await bob.caller.market.strategies.create(eager('Scalper'));

    const stop = new AbortController();
    const aliceEvents: Notification[] = [];
    const bobEvents: Notification[] = [];
    void collect(await alice.caller.market.activity(), aliceEvents, stop.signal);
    void collect(await bob.caller.market.activity(), bobEvents, stop.signal);
    // The same events reach the app-wide inbox, each with a message for the notification centre.
    const aliceInbox: Notification[] = [];
    void collect(await alice.caller.system.notifications(), aliceInbox, stop.signal);

    // Nobody watches the chart: the enabled strategies alone keep the series watched upstream.
    await until(
      () => fake.subscriptions().includes('btcusdt@kline_1m'),
      'the upstream subscription for the strategies',
    );
    expect(app.market.stats().totalSubscriptions).toBe(0);
    for (let i = 0; i < 4; i++) {
      fake.advance(MIN);
      await until(
        async () =>
          (await app.market.store.latest('BTCUSDT', '1m', 1))[0]?.candle.openTime ===
          Math.floor(fake.now / MIN) * MIN - MIN,
        'the candle',
      );
      await app.market.settled('BTCUSDT', '1m');
    }
    await until(
      () =>
        aliceEvents.some((e) => e.type === 'position_closed') && bobEvents.some((e) => e.type === 'position_closed'),
      'closed positions',
    );

    const [aTrades, bTrades] = [await alice.caller.market.trades(), await bob.caller.market.trades()];
    expect(aTrades.items.length).toBeGreaterThan(0);
    expect(aTrades.items.every((t) => t.strategyId === sa.id && t.strategyName === 'Scalper')).toBe(true);
    expect(bTrades.items.every((t) => t.strategyId === sb.id)).toBe(true);
    // Each trade against the exchange's own candles: entry at the close of the candle it opened
    // on, exit at the level the next candles touched (stop-loss first when both were).
    for (const t of [...aTrades.items, ...bTrades.items]) expectTradeFromExchange(t);
    const [aPos, bPos] = [await alice.caller.market.positions(), await bob.caller.market.positions()];
    expect(aPos.every((p) => p.strategyId === sa.id)).toBe(true);
    expect(bPos.every((p) => p.strategyId === sb.id)).toBe(true);

    // Events: each user's own only, and they match that user's trades.
    const ownStrategy = (events: Notification[], id: number) =>
      events.every((e) => {
        const p = e.payload as { position?: { strategyId: number }; trade?: { strategyId: number } };
        return e.feature === 'market' && (p.position ?? p.trade)!.strategyId === id;
      });
    expect(ownStrategy(aliceEvents, sa.id)).toBe(true);
    expect(ownStrategy(bobEvents, sb.id)).toBe(true);
    expect(aliceEvents.filter((e) => e.type === 'position_closed')).toHaveLength(aTrades.items.length);
    await until(() => aliceInbox.length === aliceEvents.length, 'the inbox to carry the same events');
    expect(aliceInbox.map((e) => e.id)).toEqual(aliceEvents.map((e) => e.id));
    expect(aliceInbox.every((e) => /^Scalper: (opened|closed) /.test((e.payload as { message: string }).message))).toBe(
      true,
    );

    for (const call of [
      () => alice.caller.market.strategies.update({ id: sb.id, name: 'Stolen' }),
      () => alice.caller.market.strategies.setEnabled({ id: sb.id, enabled: false }),
      () => alice.caller.market.strategies.remove({ id: sb.id }),
    ]) {
      const err = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TRPCError);
      expect((err as TRPCError).code).toBe('NOT_FOUND');
    }
    expect((await bob.caller.market.strategies.list()).items.find((s) => s.id === sb.id)).toMatchObject({
      name: 'Scalper',
      enabled: true,
    });

    // Trades page by cursor, newest first.
    const first = await alice.caller.market.trades({ limit: 1 });
    if (aTrades.items.length > 1) {
      expect(first.nextCursor).toBe(first.items[0]!.id);
      const second = await alice.caller.market.trades({ cursor: first.nextCursor!, limit: 1 });
      expect(second.items[0]!.id).toBeLessThan(first.items[0]!.id);
    }
    stop.abort();
  });
});
