import { and, asc, eq } from 'drizzle-orm';
import type { App } from '../../server/app';
import { inboxEvents } from '../../server/db/schema';
import type { Db } from '../../server/db/client';
import type { FakeBinance } from '../../server/demo/binance';
import type { AlertCondition, AlertFiredEvent } from '../../shared/market-alerts';
import { waitFor } from './wait';

const MIN = 60_000;

/**
 * A price level `pct` percent away from the current one that the fake exchange's (deterministic)
 * price path crosses within `horizon` minutes, on the side it crosses first: the condition of an
 * alert that is false now and becomes true soon.
 */
export function crossingAhead(fake: FakeBinance, symbol: string, pct: number, horizon = 600): AlertCondition {
  const now = fake.forming(symbol, '1m').close;
  const up = now * (1 + pct / 100);
  const down = now * (1 - pct / 100);
  const start = Math.floor(fake.now / MIN) * MIN;
  for (let m = 0; m < horizon; m++) {
    const k = fake.candle(symbol, '1m', start + m * MIN);
    if (!k) continue;
    // Closes, not wicks: a level only a wick reaches may fall between the updates a test sends.
    if (k.close > up) return { type: 'price_above', value: Number(up.toPrecision(10)) };
    if (k.close < down) return { type: 'price_below', value: Number(down.toPrecision(10)) };
  }
  throw new Error(`${symbol} does not move ${pct} % within ${horizon} minutes`);
}

/**
 * Moves the exchange `ms` on and waits until the app has applied the resulting forming update
 * (its price is the fake's) and written whatever alerts it fired. Returns the price.
 */
export async function step(app: App, fake: FakeBinance, symbol: string, ms = 15_000): Promise<number> {
  fake.advance(ms);
  const price = fake.forming(symbol, '1m').close;
  await waitFor(() => app.market.hub.lastPrice(symbol, '1m') === price, { what: `${symbol} at ${price} in the app` });
  await app.market.settled(symbol, '1m');
  return price;
}

/** The `alert_fired` entries of one user's inbox, oldest first, read from the database. */
export async function firedEvents(db: Db, userId: string) {
  const rows = await db
    .select()
    .from(inboxEvents)
    .where(and(eq(inboxEvents.userId, userId), eq(inboxEvents.type, 'alert_fired')))
    .orderBy(asc(inboxEvents.id));
  return rows.map((r) => ({ id: r.id, ...(r.payload as AlertFiredEvent['payload']) }));
}

/** Whether a price meets a price condition (strictly, as the server checks it). */
export const meets = (c: AlertCondition, price: number) =>
  c.type === 'price_above' ? price > c.value : c.type === 'price_below' ? price < c.value : false;
