import { tracked } from '@trpc/server';
import type { EventBus, Topic } from '../realtime/bus';
import { BoundedQueue, QueueOverflowError } from '../realtime/queue';
import { asStreamError } from '../realtime/resumable';
import type { FanoutConnection, FanoutHub } from './fanout';
import type { WireEvent } from './frames';

/**
 * What our WebSocket adapter registers, under the request's own AbortSignal, for each
 * subscription it serves: a stream that finds it may leave its catch-up generator and join the
 * topic's fan-out. Other callers (createCaller, HTTP) find nothing and get a plain generator.
 */
export interface FanoutClaim {
  hub: FanoutHub;
  conn: FanoutConnection;
  head: string;
}

const claims = new WeakMap<AbortSignal, FanoutClaim>();

export function registerClaim(signal: AbortSignal, claim: FanoutClaim) {
  claims.set(signal, claim);
}

export function claimFor(signal: AbortSignal | undefined): FanoutClaim | undefined {
  return signal ? claims.get(signal) : undefined;
}

/**
 * A shared topic as a stream: catch up from the database through an ordinary generator, then
 * hand over to the topic's fan-out (one encoding and one loop per event for every subscriber).
 * This is the interface a stream helper offers to the transport: a topic, a replay, a position.
 */
export interface SharedSource<P extends object> {
  topic: Topic<P>;
  /** Stored events after the client's resume point (already `tracked`), then whatever the
   *  stream sends on joining (e.g. the forming candle); returns the position reached. */
  replay(): AsyncGenerator<unknown, number | null>;
  /** Order key of a live event: events at or below the position reached are duplicates. */
  position(p: P): number;
  toWire(p: P): WireEvent;
}

export async function* sharedStream<P extends object>(opts: {
  bus: EventBus;
  source: SharedSource<P>;
  signal: AbortSignal | undefined;
  claim: FanoutClaim | undefined;
  maxBuffered?: number;
}) {
  const { source, signal } = opts;
  const max = opts.maxBuffered ?? 2000;
  const queue = new BoundedQueue<P>(max);
  // Live events held during the replay; afterwards they go to the fan-out or to the queue.
  let pending: P[] | null = [];
  let overflow: QueueOverflowError | undefined;
  // Subscribe before reading the table: an event stored during the replay is caught by one or the other.
  let unsubscribe = opts.bus.subscribe(source.topic, (p) => {
    if (!pending) return queue.push(p);
    if (pending.length >= max) overflow ??= new QueueOverflowError(max);
    else pending.push(p);
  });
  let detach: (() => void) | null = null;
  try {
    let highWater = yield* source.replay();
    if (overflow) throw overflow;
    const newer = (p: P) => highWater === null || source.position(p) > highWater;
    if (opts.claim) {
      const { hub, conn, head } = opts.claim;
      const caughtUp = pending.filter(newer);
      pending = null;
      unsubscribe();
      unsubscribe = () => {};
      detach = hub.attach({ topic: source.topic, toWire: source.toWire, conn, head, caughtUp });
      // The adapter keeps one read pending on us: it ends when the subscription does.
      if (signal && !signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return;
    }
    for (const p of pending) queue.push(p);
    pending = null;
    for (;;) {
      const p = await queue.next(signal);
      if (p === null) return;
      if (!newer(p)) continue;
      const { trackedId, data } = source.toWire(p);
      if (trackedId === null) {
        yield data;
        continue;
      }
      highWater = source.position(p);
      yield tracked(trackedId, data);
    }
  } catch (err) {
    throw asStreamError(err);
  } finally {
    detach?.();
    unsubscribe();
  }
}
