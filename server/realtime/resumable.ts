import { tracked, type TrackedEnvelope } from '@trpc/server';
import { RESUME_EXPIRED_CODE, RESUME_POINT, type ResumePoint } from '../../shared/system';
import { isDatabaseUnavailable, retryWhileDatabaseUnavailable } from '../db/unavailable';
import { AppError } from '../errors';
import { BoundedQueue, QueueOverflowError } from './queue';

/** An event as stored: its database id orders it and is what clients resume from. */
export interface StoredEvent<T> {
  id: number;
  data: T;
}

/**
 * An event that is only live: not stored, not tracked (the client's lastEventId stays on the
 * last stored event), lost to whoever is not connected — forming candles, typing. Yielded as
 * this very object, so every subscriber of one publish gets the same reference.
 */
export interface LiveOnlyEvent<L> {
  readonly id?: undefined;
  readonly data: L;
}

/** What a stream's bus topic carries: stored events and, for some streams, live-only ones. */
export type BusEvent<T, L = never> = StoredEvent<T> | LiveOnlyEvent<L>;

/**
 * What a resumable stream yields: tracked events, the resume point first when it started
 * without lastEventId, and live-only events for streams that have them.
 */
export type ResumableYield<T, L = never> =
  TrackedEnvelope<T> | TrackedEnvelope<ResumePoint> | ([L] extends [never] ? never : LiveOnlyEvent<L>);

export interface ResumableOptions<T, L = never> {
  signal: AbortSignal | undefined;
  /**
   * The id the client last saw (tRPC sends it on reconnect); absent → live events only, after
   * a resume point (`head`). "0" is the resume point of a stream that had nothing stored: from its start.
   */
  lastEventId: string | null | undefined;
  /**
   * The id of the stream's newest stored event (0 when none): every later event of the stream
   * gets a higher position. Read after live delivery started, and sent as the first tracked
   * message (RESUME_POINT), so a client that reconnects before any event resumes from here.
   */
  head: () => Promise<number>;
  /** Starts live delivery; returns the unsubscribe function. */
  subscribe: (push: (event: BusEvent<T, L>) => void) => () => void;
  /** Stored events whose position is above `after`, ascending, at most `limit`. */
  replay: (after: number, limit: number) => Promise<StoredEvent<T>[]>;
  /**
   * Where a stored event sits in the stream (the high-water mark); its id unless given.
   * Market: the candle's open time, since a backfilled candle gets a newer id than later candles.
   */
  position?: (event: StoredEvent<T>) => number;
  /** Turns the client's lastEventId into a position (it may throw to refuse it); the id itself unless given. */
  resumeFrom?: (id: number) => Promise<number>;
  /** A live-only event at or below the high-water mark is stale and dropped (a forming candle that has since closed). */
  livePosition?: (data: L) => number;
  /** The live-only state a new subscriber sees at once, after the replay (the forming candle). */
  snapshot?: () => LiveOnlyEvent<L> | null;
  /**
   * The lowest id still stored (null when the table is empty). A resume from below it may have
   * lost events to retention: the client is told to reload instead of getting a silent gap.
   */
  retainedFrom?: () => Promise<number | null>;
  /** Checked on every event before it is delivered; an event failing it is skipped (e.g. removed from a conversation). */
  authorize?: (event: BusEvent<T, L>) => boolean | Promise<boolean>;
  /**
   * Shared topics only (no `authorize`): once caught up, hand the live part to the transport's
   * one fan-out loop for the topic, with the live events that arrived during the replay. The
   * stream then returns: the fan-out owns the subscription from there (the transport knows it
   * from its claim, realtime/handover.ts), the generator chain is let go.
   */
  handover?: (caughtUp: BusEvent<T, L>[]) => void;
  /** Live events allowed to wait for a slow reader before the stream ends. */
  maxBuffered?: number;
  replayPageSize?: number;
}

/** A stored event as a stream yields it: tracked by its id, which the client resumes from (features never import tRPC). */
export const trackedEvent = <T>(id: string, data: T): TrackedEnvelope<T> => tracked(id, data);

export function parseEventId(lastEventId: string | null | undefined): number | null {
  if (lastEventId == null || lastEventId === '') return null;
  const n = Number(lastEventId);
  if (!Number.isSafeInteger(n) || n < 0) {
    // Named in words (a person reads it); over SSE it may come from the Last-Event-ID header, not the input.
    throw new AppError(
      'BAD_REQUEST',
      `The resume point must be an event id (a whole number, 0 or more), got "${lastEventId}".`,
    );
  }
  return n;
}

/**
 * The answer to a resume from before what is kept: PRECONDITION_FAILED, so a client can tell it
 * from bad input and reload (fetch current state, subscribe without lastEventId).
 */
export function resumeExpired(what: string): AppError {
  return new AppError(
    RESUME_EXPIRED_CODE,
    `${what} no longer kept (pruned): reload, then subscribe without lastEventId.`,
  );
}

/** A reader that fell behind is told why; it resumes from its last id, so ending loses nothing. */
export function asStreamError(err: unknown): unknown {
  return err instanceof QueueOverflowError
    ? new AppError('TOO_MANY_REQUESTS', `Subscription ended: ${err.message}. Reconnect to resume.`)
    : err;
}

/**
 * Replay-then-live with no gap and no duplicate. Live delivery starts *before* the replay
 * query so an event committed during the replay is caught by one or the other; the
 * high-water mark drops whichever copy comes second. Ids of one stream commit in order
 * (realtime/record.ts), so a late commit is never below the mark.
 */
export async function* resumable<T, L = never>(opts: ResumableOptions<T, L>): AsyncGenerator<ResumableYield<T, L>> {
  if (opts.handover && opts.authorize) throw new Error('a handed-over stream cannot authorise per event');
  const queue = new BoundedQueue<BusEvent<T, L>>(opts.maxBuffered ?? 1000);
  let unsubscribe = opts.subscribe((e) => queue.push(e));
  const pageSize = opts.replayPageSize ?? 500;
  const position = opts.position ?? ((e: StoredEvent<T>) => e.id);
  const { authorize } = opts;
  // An event that arrives as the database goes away waits for it: failing the check would end the stream.
  // The first try runs bare, so the usual event costs no retry machinery.
  const allowed = async (e: BusEvent<T, L>) => {
    if (!authorize) return true;
    try {
      return await authorize(e);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      return retryWhileDatabaseUnavailable(async () => authorize(e), opts.signal);
    }
  };
  // The conditional yield type cannot be checked inside the generic body; this is the one place a live-only event leaves.
  const liveOnly = (e: LiveOnlyEvent<L>) => e as ResumableYield<T, L>;
  const stale = (e: LiveOnlyEvent<L>, highWater: number | null) =>
    highWater !== null && opts.livePosition !== undefined && opts.livePosition(e.data) <= highWater;
  try {
    const resumeId = parseEventId(opts.lastEventId);
    const { resumeFrom } = opts;
    // 0 is no event's id: the resume point of an empty stream, whose every event is newer.
    let highWater =
      resumeId === null
        ? null
        : resumeFrom && resumeId !== 0
          ? await retryWhileDatabaseUnavailable(() => resumeFrom(resumeId), opts.signal)
          : resumeId;
    if (resumeId === null) {
      // After subscribe(): an event newer than the head is live-delivered. The high-water mark
      // stays unset, so an event committed before the head but published after it still arrives.
      const head = await retryWhileDatabaseUnavailable(() => opts.head(), opts.signal);
      yield tracked(String(head), RESUME_POINT);
    }
    if (resumeId !== null && highWater !== null) {
      for (let first = true; ; first = false) {
        const after = highWater;
        const page = await retryWhileDatabaseUnavailable(() => opts.replay(after, pageSize), opts.signal);
        // Checked after the first query: retention that ran before it is seen here, any later only removed what the page already holds.
        if (first && opts.retainedFrom) {
          const { retainedFrom } = opts;
          const oldest = await retryWhileDatabaseUnavailable(() => retainedFrom(), opts.signal);
          if (oldest !== null && resumeId < oldest - 1) throw resumeExpired(`Events after #${resumeId} are`);
        }
        for (const e of page) {
          const p = position(e);
          if (p <= highWater) continue;
          highWater = p;
          if (await allowed(e)) yield tracked(String(e.id), e.data);
        }
        if (page.length < pageSize || opts.signal?.aborted) break;
      }
    }
    const snapshot = opts.snapshot?.();
    if (snapshot && !stale(snapshot, highWater) && (await allowed(snapshot))) yield liveOnly(snapshot);
    if (opts.handover) {
      // Synchronous from the drain to the join, so no publish falls between the two.
      const caughtUp = queue
        .drain()
        .filter((e) => (e.id === undefined ? !stale(e, highWater) : highWater === null || position(e) > highWater));
      unsubscribe();
      unsubscribe = () => {};
      opts.handover(caughtUp);
      // Returning ends the generator chain; the transport's claim now stands for the subscription.
      return;
    }
    for (;;) {
      const e = await queue.next(opts.signal);
      if (e === null) return;
      if (e.id === undefined) {
        if (!stale(e, highWater) && (await allowed(e))) yield liveOnly(e);
        continue;
      }
      const p = position(e);
      if (highWater !== null && p <= highWater) continue;
      highWater = p;
      if (await allowed(e)) yield tracked(String(e.id), e.data);
    }
  } catch (err) {
    // Aborted while waiting on the database: the subscriber has gone, so the stream just ends.
    if (opts.signal?.aborted) return;
    throw asStreamError(err);
  } finally {
    unsubscribe();
  }
}
