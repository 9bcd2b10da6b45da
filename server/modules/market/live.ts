import { TRPCError, tracked } from '@trpc/server';
import type { EventBus } from '../../realtime/bus';
import { BoundedQueue } from '../../realtime/queue';
import { asStreamError, parseEventId } from '../../realtime/resumable';
import type { Timeframe } from '../../../shared/market';
import type { CandleStore } from './candle-store';
import { seriesTopic, type SeriesEvent, type SeriesHub } from './series';

const PAGE = 500;

/**
 * Replay-then-live for one series. Not the generic `resumable`: forming updates interleave
 * untracked (they leave the client's lastEventId on the last closed candle), and the
 * high-water mark is the candle's open time, since a backfilled candle gets a newer row id
 * than nothing older in the series but must still come in time order.
 */
export async function* liveSeries(opts: {
  bus: EventBus;
  store: CandleStore;
  hub: SeriesHub;
  symbol: string;
  timeframe: Timeframe;
  lastEventId: string | null | undefined;
  signal: AbortSignal | undefined;
}) {
  const { symbol, timeframe: tf } = opts;
  const queue = new BoundedQueue<SeriesEvent>(2000);
  // Subscribe before reading the table: a candle stored during the replay is caught by one or the other.
  const unsubscribe = opts.bus.subscribe(seriesTopic(symbol, tf), (e) => queue.push(e));
  try {
    const resumeId = parseEventId(opts.lastEventId);
    let highWater: number | null = null;
    if (resumeId !== null) {
      const from = await opts.store.byId(symbol, tf, resumeId);
      if (!from) throw new TRPCError({ code: 'BAD_REQUEST', message: `lastEventId ${resumeId} is not a ${symbol} ${tf} candle: resubscribe without it.` });
      highWater = from.candle.openTime;
      for (;;) {
        const page = await opts.store.after(symbol, tf, highWater, PAGE);
        for (const c of page) {
          highWater = c.candle.openTime;
          yield tracked(String(c.id), { symbol, timeframe: tf, candle: c.candle, closed: true, indicators: c.indicators });
        }
        if (page.length < PAGE || opts.signal?.aborted) break;
      }
    }
    const forming = opts.hub.forming(symbol, tf);
    if (forming && (highWater === null || forming.candle.openTime > highWater)) yield forming;
    for (;;) {
      const e = await queue.next(opts.signal);
      if (e === null) return;
      const t = e.event.candle.openTime;
      if (highWater !== null && t <= highWater) continue;
      if (e.id === null) {
        yield e.event;
        continue;
      }
      highWater = t;
      yield tracked(String(e.id), e.event);
    }
  } catch (err) {
    throw asStreamError(err);
  } finally {
    unsubscribe();
  }
}
