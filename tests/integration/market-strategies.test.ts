import { TRPCError, type inferProcedureInput } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import type { Notification } from '../../shared/system';
import type { AppRouter } from '../../server/router';
import { signUp } from '../helpers/app';
import { marketTestApp, until } from '../helpers/market';

const { app, fake } = await marketTestApp();
type CreateInput = inferProcedureInput<AppRouter['market']['strategies']['create']>;

// Enters on almost any candle (RSI below 98) and exits on the next one (0.01 % take-profit or stop-loss).
const eager = (name: string): CreateInput => ({
  name,
  symbol: 'BTCUSDT',
  timeframe: '1m',
  rule: { type: 'rsi', oversold: 98, overbought: 99 },
  positionSize: 1000,
  takeProfitPct: 0.01,
  stopLossPct: 0.01,
  enabled: true,
});

async function collect(iterable: AsyncIterable<unknown>, into: Notification[], signal: AbortSignal) {
  try {
    for await (const e of iterable) {
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
    await expect(caller.market.strategies.create({ ...eager('Mine'), enabled: false })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await caller.market.strategies.create({ ...eager('Mine'), timeframe: '5m', enabled: false })).timeframe).toBe('5m');
    expect(await caller.market.strategies.update({ id: s.id, takeProfitPct: 5, symbol: 'ethusdt' })).toMatchObject({ takeProfitPct: 5, symbol: 'ETHUSDT' });
    expect((await caller.market.strategies.setEnabled({ id: s.id, enabled: true })).enabled).toBe(true);
    await caller.market.strategies.remove({ id: s.id });
    expect((await caller.market.strategies.list()).items.some((x) => x.id === s.id)).toBe(false);

    const bad: unknown[] = [
      { ...eager('x'), symbol: 'b$d' },
      { ...eager('x'), timeframe: '2m' },
      { ...eager('x'), positionSize: -1 },
      { ...eager('x'), name: ' ' },
      { ...eager('x'), rule: { type: 'rsi', oversold: 70, overbought: 30 } },
      { ...eager('x'), rule: { type: 'bogus' } },
    ];
    for (const input of bad) await expect(caller.market.strategies.create(input as CreateInput)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(caller.market.trades({ cursor: -3 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(caller.market.strategies.setEnabled({ id: 0, enabled: true })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
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

    const release = app.market.feed.watch('BTCUSDT', '1m');
    await until(() => fake.subscriptions().includes('btcusdt@kline_1m'), 'the upstream subscription');
    for (let i = 0; i < 4; i++) {
      fake.advance(60_000);
      await until(async () => (await app.market.store.latest('BTCUSDT', '1m', 1))[0]?.candle.openTime === Math.floor(fake.now / 60_000) * 60_000 - 60_000, 'the candle');
      await app.market.hub.settled('BTCUSDT', '1m');
    }
    await until(() => aliceEvents.some((e) => e.type === 'position_closed') && bobEvents.some((e) => e.type === 'position_closed'), 'closed positions');

    const [aTrades, bTrades] = [await alice.caller.market.trades(), await bob.caller.market.trades()];
    expect(aTrades.items.length).toBeGreaterThan(0);
    expect(aTrades.items.every((t) => t.strategyId === sa.id && t.strategyName === 'Scalper')).toBe(true);
    expect(bTrades.items.every((t) => t.strategyId === sb.id)).toBe(true);
    const t = aTrades.items[0]!;
    expect(t.pnl).toBeCloseTo((t.exitPrice - t.entryPrice) * t.quantity, 8);
    expect(['take_profit', 'stop_loss', 'signal']).toContain(t.reason);

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
    expect(aliceInbox.every((e) => /^Scalper: (opened|closed) /.test((e.payload as { message: string }).message))).toBe(true);

    for (const call of [
      () => alice.caller.market.strategies.update({ id: sb.id, name: 'Stolen' }),
      () => alice.caller.market.strategies.setEnabled({ id: sb.id, enabled: false }),
      () => alice.caller.market.strategies.remove({ id: sb.id }),
    ]) {
      const err = await call().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(TRPCError);
      expect((err as TRPCError).code).toBe('NOT_FOUND');
    }
    expect((await bob.caller.market.strategies.list()).items.find((s) => s.id === sb.id)).toMatchObject({ name: 'Scalper', enabled: true });

    // Trades page by cursor, newest first.
    const first = await alice.caller.market.trades({ limit: 1 });
    if (aTrades.items.length > 1) {
      expect(first.nextCursor).toBe(first.items[0]!.id);
      const second = await alice.caller.market.trades({ cursor: first.nextCursor!, limit: 1 });
      expect(second.items[0]!.id).toBeLessThan(first.items[0]!.id);
    }
    stop.abort();
    release();
  });
});
