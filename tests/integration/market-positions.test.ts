import { describe, expect, it } from 'vitest';
import { signUp, type Caller } from '../helpers/app';
import { rejection } from '../helpers/errors';
import { holdingStrategy, marketTestApp, openPosition as openPositionFor, until } from '../helpers/market';

const { app, fake } = await marketTestApp();
const MIN = 60_000;
const holder = holdingStrategy;
const openPosition = (caller: Caller, strategyId: number) => openPositionFor(app, fake, caller, strategyId);

describe('market strategies with an open position', () => {
  it('refuses to move a strategy with an open position to another series, with a message that says what to do', async () => {
    const { caller } = await signUp(app);
    const s = await caller.market.strategies.create(holder('Mover'));
    await openPosition(caller, s.id);

    for (const patch of [
      { timeframe: '5m' as const },
      { symbol: 'ETHUSDT' },
      { symbol: 'BTCUSDT', timeframe: '1h' as const },
    ]) {
      const err = await rejection(caller.market.strategies.update({ id: s.id, ...patch }));
      expect(err.code).toBe('CONFLICT');
      expect(err.message).toMatch(/"Mover" has an open position on BTCUSDT 1m: turn the strategy off first/);
    }
    // The edit form always sends both: the same series with another setting is fine.
    expect(
      await caller.market.strategies.update({ id: s.id, symbol: 'BTCUSDT', timeframe: '1m', takeProfitPct: 30 }),
    ).toMatchObject({ takeProfitPct: 30, timeframe: '1m' });
    expect((await caller.market.positions()).filter((p) => p.strategyId === s.id)).toHaveLength(1);
    // Turning it off in the same update closes the position first; then the move is fine.
    expect(await caller.market.strategies.update({ id: s.id, enabled: false, timeframe: '5m' })).toMatchObject({
      enabled: false,
      timeframe: '5m',
    });
    expect(await caller.market.positions()).toEqual([]);
    expect((await caller.market.trades()).items[0]).toMatchObject({
      strategyId: s.id,
      timeframe: '1m',
      reason: 'disabled',
    });
  });

  it('turning a strategy off closes its position at the last price and records the trade (reason "disabled")', async () => {
    const { caller } = await signUp(app);
    const s = await caller.market.strategies.create(holder('Quitter'));
    const position = await openPosition(caller, s.id);
    // The price the exchange shows right now: the forming candle's.
    const last = fake.forming('BTCUSDT', '1m').close;

    await caller.market.strategies.setEnabled({ id: s.id, enabled: false });
    expect(await caller.market.positions()).toEqual([]);
    const [trade] = (await caller.market.trades()).items;
    expect(trade).toMatchObject({
      strategyId: s.id,
      strategyName: 'Quitter',
      reason: 'disabled',
      entryPrice: position.entryPrice,
      exitPrice: last,
    });
    expect(trade!.pnl).toBeCloseTo((last - position.entryPrice) * (1000 / position.entryPrice), 6);

    // Off means off: later candles open nothing for it.
    fake.advance(MIN);
    await until(
      async () =>
        (await app.market.store.latest('BTCUSDT', '1m', 1))[0]?.candle.openTime ===
        Math.floor(fake.now / MIN) * MIN - MIN,
      'the candle',
    );
    await app.market.settled('BTCUSDT', '1m');
    expect(await caller.market.positions()).toEqual([]);
  });

  it('deleting a strategy closes its position at the last price and keeps the trade (reason "deleted")', async () => {
    const { caller } = await signUp(app);
    const other = await signUp(app);
    const s = await caller.market.strategies.create(holder('Goner'));
    const position = await openPosition(caller, s.id);
    const last = fake.forming('BTCUSDT', '1m').close;

    // Another user can neither delete it nor see the trade.
    expect((await rejection(other.caller.market.strategies.remove({ id: s.id }))).code).toBe('NOT_FOUND');
    await caller.market.strategies.remove({ id: s.id });
    expect(await caller.market.positions()).toEqual([]);
    const [trade] = (await caller.market.trades()).items;
    expect(trade).toMatchObject({
      strategyId: null,
      strategyName: 'Goner',
      reason: 'deleted',
      entryPrice: position.entryPrice,
      exitPrice: last,
    });
    expect((await other.caller.market.trades()).items).toEqual([]);
  });

  it('keeps a series watched while any enabled strategy trades it, one connection per timeframe, and releases it after the last', async () => {
    const { caller } = await signUp(app);
    const eth = await caller.market.strategies.create({ ...holder('Eth 4h'), symbol: 'ETHUSDT', timeframe: '4h' });
    const sol = await caller.market.strategies.create({ ...holder('Sol 4h'), symbol: 'SOLUSDT', timeframe: '4h' });
    await until(
      () => ['ethusdt@kline_4h', 'solusdt@kline_4h'].every((s) => fake.subscriptions().includes(s)),
      'both 4h series upstream',
    );
    expect(app.market.feed.carried().find((c) => c.timeframe === '4h')).toEqual({
      timeframe: '4h',
      symbols: ['ETHUSDT', 'SOLUSDT'],
      connections: 1,
    });

    await caller.market.strategies.setEnabled({ id: eth.id, enabled: false });
    await until(() => !fake.subscriptions().includes('ethusdt@kline_4h'), 'the ETHUSDT 4h release');
    expect(fake.subscriptions()).toContain('solusdt@kline_4h');
    await caller.market.strategies.remove({ id: sol.id });
    await until(() => !app.market.feed.carried().some((c) => c.timeframe === '4h'), 'the 4h connection to close');
  });
});
