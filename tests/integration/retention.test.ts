import { count, eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { inboxEvents } from '../../server/db/schema';
import type { Candle } from '../../shared/market';
import { createTestApp, signUp } from '../helpers/app';
import { FAKE_START, marketTestApp, until } from '../helpers/market';
import { deliver } from '../helpers/inbox';

const { app } = await marketTestApp({
  RETENTION_INTERVAL_MS: '0',
  INBOX_RETENTION_DAYS: '1',
  MARKET_CANDLES_KEEP: '1000',
});
// A second app whose timer prunes on its own (created here: building an app is slow on a busy machine).
const scheduled = await createTestApp({ RETENTION_INTERVAL_MS: '50', INBOX_RETENTION_DAYS: '1' });
const DAY = 86_400_000;

const backdate = (ids: number[], days: number) =>
  app.db
    .update(inboxEvents)
    .set({ createdAt: new Date(Date.now() - days * DAY) })
    .where(inArray(inboxEvents.id, ids));

const deliverMany = (a: typeof app, userId: string, n: number, tag: string) =>
  deliver(
    a,
    Array.from({ length: n }, (_, i) => ({
      userId,
      feature: 'test',
      type: 'retention',
      payload: { tag: `${tag}-${i}` },
    })),
  );

const firstEvent = (iterable: AsyncIterable<unknown>) => iterable[Symbol.asyncIterator]().next();

describe('retention', () => {
  it('prunes inbox events past INBOX_RETENTION_DAYS and tells a client resuming from before them to reload', async () => {
    const { user, caller } = await signUp(app);
    const old = await deliverMany(app, user.id, 3, 'old');
    await backdate(
      old.map((e) => e.id),
      2,
    );
    const fresh = await deliverMany(app, user.id, 2, 'fresh');

    const removed = await app.retention.runOnce();
    expect(removed.inbox_events).toBeGreaterThanOrEqual(3);
    const left = await app.db.select({ id: inboxEvents.id }).from(inboxEvents).where(eq(inboxEvents.userId, user.id));
    expect(left.map((r) => r.id)).toEqual(fresh.map((e) => e.id));

    // Resuming from before the pruned events: a typed answer, not a silent gap.
    const stale = await caller.system.notifications({ lastEventId: String(old[0]!.id) });
    await expect(firstEvent(stale)).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining('reload'),
    });
    // Resuming from the last pruned event loses nothing: every later one is kept.
    const fine = await caller.system.notifications({ lastEventId: String(old.at(-1)!.id) });
    const it = fine[Symbol.asyncIterator]();
    const next = await it.next();
    expect(next.value).toEqual([
      String(fresh[0]!.id),
      expect.objectContaining({ id: fresh[0]!.id }),
      expect.anything(),
    ]);
    await it.return?.(undefined);
  });

  it('keeps the newest MARKET_CANDLES_KEEP candles per series; a resume from a pruned candle is told to reload', async () => {
    const { caller } = await signUp(app);
    const symbol = 'RETAINUSDT';
    const candles: Candle[] = Array.from({ length: 1005 }, (_, i) => {
      const openTime = FAKE_START - 30_000 - (1005 - i) * 60_000;
      return { openTime, closeTime: openTime + 59_999, open: 1, high: 1, low: 1, close: 1, volume: 1, trades: 1 };
    });
    const none = { sma20: null, ema9: null, ema21: null, rsi14: null, macd: null, bollinger: null };
    const stored = await app.market.store.insert(
      symbol,
      '1m',
      candles.map((candle) => ({ candle, indicators: none })),
    );

    const removed = await app.retention.runOnce();
    expect(removed.market_candles).toBe(5);
    const kept = await app.market.store.latest(symbol, '1m', 2000);
    expect(kept.map((c) => c.id)).toEqual(stored.slice(5).map((c) => c.id));

    const stale = await caller.market.live({ symbol, timeframe: '1m', lastEventId: String(stored[0]!.id) });
    await expect(firstEvent(stale)).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining('reload'),
    });
    const fine = await caller.market.live({ symbol, timeframe: '1m', lastEventId: String(stored.at(-2)!.id) });
    const it = fine[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual([
      String(stored.at(-1)!.id),
      expect.objectContaining({ closed: true }),
      expect.anything(),
    ]);
    await it.return?.(undefined);
  });

  it('runs on its own every RETENTION_INTERVAL_MS, always keeping the newest event', async () => {
    const { user } = await signUp(scheduled);
    const events = await deliverMany(scheduled, user.id, 3, 'all-old');
    await scheduled.db
      .update(inboxEvents)
      .set({ createdAt: new Date(Date.now() - 2 * DAY) })
      .where(
        inArray(
          inboxEvents.id,
          events.map((e) => e.id),
        ),
      );
    const total = async () => (await scheduled.db.select({ n: count() }).from(inboxEvents))[0]!.n;
    await until(async () => (await total()) === 1, 'the scheduled pass');
    const [last] = await scheduled.db.select({ id: inboxEvents.id }).from(inboxEvents);
    expect(last!.id).toBe(events.at(-1)!.id);
  });
});
