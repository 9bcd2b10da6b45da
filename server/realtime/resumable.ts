import { TRPCError, tracked } from '@trpc/server';
import { BoundedQueue, QueueOverflowError } from './queue';

/** An event as stored: its database id orders it and is what clients resume from. */
export interface StoredEvent<T> {
  id: number;
  data: T;
}

export interface ResumableOptions<T> {
  signal: AbortSignal | undefined;
  /** The id the client last saw (tRPC sends it on reconnect); absent → live events only. */
  lastEventId: string | null | undefined;
  /** Starts live delivery; returns the unsubscribe function. */
  subscribe: (push: (event: StoredEvent<T>) => void) => () => void;
  /** Stored events with id > afterId, ascending, at most `limit`. */
  replay: (afterId: number, limit: number) => Promise<StoredEvent<T>[]>;
  /** Live events allowed to wait for a slow reader before the stream ends. */
  maxBuffered?: number;
  replayPageSize?: number;
}

export function parseEventId(lastEventId: string | null | undefined): number | null {
  if (lastEventId == null || lastEventId === '') return null;
  const n = Number(lastEventId);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: `lastEventId must be a non-negative integer id, got "${lastEventId}"` });
  }
  return n;
}

/** A reader that fell behind is told why; it resumes from its last id, so ending loses nothing. */
export function asStreamError(err: unknown): unknown {
  return err instanceof QueueOverflowError
    ? new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Subscription ended: ${err.message}. Reconnect to resume.` })
    : err;
}

/**
 * Replay-then-live with no gap and no duplicate. Live delivery starts *before* the replay
 * query so an event committed during the replay is caught by one or the other; the
 * high-water mark drops whichever copy comes second.
 */
export async function* resumable<T>(opts: ResumableOptions<T>) {
  const queue = new BoundedQueue<StoredEvent<T>>(opts.maxBuffered ?? 1000);
  const unsubscribe = opts.subscribe((e) => queue.push(e));
  const pageSize = opts.replayPageSize ?? 500;
  try {
    let highWater = parseEventId(opts.lastEventId);
    if (highWater !== null) {
      for (;;) {
        const page = await opts.replay(highWater, pageSize);
        for (const e of page) {
          if (e.id <= highWater) continue;
          highWater = e.id;
          yield tracked(String(e.id), e.data);
        }
        if (page.length < pageSize || opts.signal?.aborted) break;
      }
    }
    for (;;) {
      const e = await queue.next(opts.signal);
      if (e === null) return;
      if (highWater !== null && e.id <= highWater) continue;
      highWater = e.id;
      yield tracked(String(e.id), e.data);
    }
  } catch (err) {
    throw asStreamError(err);
  } finally {
    unsubscribe();
  }
}
