import { TRPCError, tracked } from '@trpc/server';
import { parseEventId } from '../../realtime/resumable';
import type { SharedSource } from '../../transport/shared-stream';
import type { Timeframe } from '../../../shared/market';
import type { CandleStore } from './candle-store';
import { seriesTopic, type SeriesEvent, type SeriesHub } from './series';

const PAGE = 500;

/**
 * One series as a shared source: replay closed candles after the client's resume point, then
 * the forming candle. Positions are open times, not row ids: a backfilled candle gets a newer
 * row id than nothing older in the series but must still come in time order. Forming updates
 * go untracked, so the client's lastEventId stays on the last closed candle.
 */
export function seriesSource(opts: { store: CandleStore; hub: SeriesHub; symbol: string; timeframe: Timeframe; lastEventId: string | null | undefined }): SharedSource<SeriesEvent> {
  const { store, hub, symbol, timeframe: tf } = opts;
  return {
    topic: seriesTopic(symbol, tf),
    position: (e) => e.event.candle.openTime,
    toWire: (e) => ({ trackedId: e.id === null ? null : String(e.id), data: e.event }),
    async *replay() {
      const resumeId = parseEventId(opts.lastEventId);
      let highWater: number | null = null;
      if (resumeId !== null) {
        const from = await store.byId(symbol, tf, resumeId);
        if (!from) throw new TRPCError({ code: 'BAD_REQUEST', message: `lastEventId ${resumeId} is not a ${symbol} ${tf} candle: resubscribe without it.` });
        highWater = from.candle.openTime;
        for (;;) {
          const page = await store.after(symbol, tf, highWater, PAGE);
          for (const c of page) {
            highWater = c.candle.openTime;
            yield tracked(String(c.id), { symbol, timeframe: tf, candle: c.candle, closed: true, indicators: c.indicators });
          }
          if (page.length < PAGE) break;
        }
      }
      const forming = hub.forming(symbol, tf);
      if (forming && (highWater === null || forming.candle.openTime > highWater)) yield forming;
      return highWater;
    },
  };
}
