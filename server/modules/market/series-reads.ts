import { BatchedRead, STORM_GATHER_MS } from '../../db/batched-read';
import { markImmutable } from '../../realtime/immutable';
import type { ClosedCandleEvent, Timeframe } from '../../../shared/market';
import type { CandleStore, StoredCandle } from './candle-store';

/**
 * The reads a market.live subscription makes as it starts (the head) or resumes (its last id's
 * candle, then the page after it), coalesced: after a deploy thousands of clients of one series
 * reconnect at once with the same last id, and these were a query each (issue #21). Every read
 * joins only a round not yet begun, so it still happens after its subscription went live, as
 * the replay-then-live order needs (realtime rule 1).
 */
export class SeriesReads {
  private readonly heads: BatchedRead<string, number>;
  private readonly candles: BatchedRead<string, StoredCandle | null>;
  private readonly pages: BatchedRead<string, StoredCandle[]>;
  /** A page's replay events, made once for every subscription that read that page (one round). */
  private readonly pageEvents = new WeakMap<StoredCandle[], ReplayedCandle[]>();

  constructor(store: CandleStore) {
    this.heads = byKey(async (symbol, tf) => (await store.latest(symbol, tf, 1))[0]?.id ?? 0);
    this.candles = byKey((symbol, tf, id) => store.byId(symbol, tf, id!));
    this.pages = byKey((symbol, tf, openTime, limit) => store.after(symbol, tf, openTime!, limit!));
  }

  async head(symbol: string, tf: Timeframe): Promise<number> {
    return (await this.heads.get(key(symbol, tf))) ?? 0;
  }

  async byId(symbol: string, tf: Timeframe, id: number): Promise<StoredCandle | null> {
    return (await this.candles.get(key(symbol, tf, id))) ?? null;
  }

  /** The closed candles after `openTime` as replay events; immutable, so their encoding is shared. */
  async after(symbol: string, tf: Timeframe, openTime: number, limit: number): Promise<ReplayedCandle[]> {
    const page = await this.pages.get(key(symbol, tf, openTime, limit));
    if (!page) return [];
    let events = this.pageEvents.get(page);
    if (!events) this.pageEvents.set(page, (events = page.map((c) => closedEvent(symbol, tf, c))));
    return events;
  }
}

export interface ReplayedCandle {
  id: number;
  data: ClosedCandleEvent;
}

export function closedEvent(symbol: string, tf: Timeframe, c: StoredCandle): ReplayedCandle {
  return {
    id: c.id,
    data: markImmutable({ symbol, timeframe: tf, candle: c.candle, closed: true as const, indicators: c.indicators }),
  };
}

const key = (symbol: string, tf: Timeframe, ...n: number[]) => [symbol, tf, ...n].join('|');

function byKey<V>(read: (symbol: string, tf: Timeframe, ...n: number[]) => Promise<V>) {
  return new BatchedRead<string, V>(
    async (keys) =>
      new Map(
        await Promise.all(
          keys.map(async (k) => {
            const [symbol, tf, ...n] = k.split('|');
            return [k, await read(symbol!, tf as Timeframe, ...n.map(Number))] as const;
          }),
        ),
      ),
    { gatherMs: STORM_GATHER_MS },
  );
}
