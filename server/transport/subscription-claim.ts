import { getTRPCErrorFromUnknown, type TRPCError } from '@trpc/server';
import type { Topic } from '../realtime/bus';
import type { StreamClaim } from '../realtime/handover';
import type { BusEvent } from '../realtime/resumable';
import { toTRPCError } from '../errors';
import type { FanoutConnection, FanoutHub } from './fanout';
import type { WireEvent } from './frames';
import type { RequestId } from './messages';

/** What a claim needs from its connection once the subscription it stands for ends. */
export interface ClaimOwner extends FanoutConnection {
  /** Sends the error (if any) and `stopped`, forgets the subscription, logs a cleanup that threw. */
  handedOverEnded(claim: SubscriptionClaim, error: TRPCError | null, cleanupFailure: unknown): void;
}

/**
 * What the generator path would yield: a stored event tracked by its id (the client sees
 * `{ id, data }`), a live-only event as itself, untracked (the client sees `{ data }` too).
 */
const toWire = (e: BusEvent<unknown, unknown>): WireEvent =>
  e.id === undefined ? { trackedId: null, data: e } : { trackedId: String(e.id), data: e.data };

/**
 * One subscription's claim on the fan-out (realtime/handover.ts), registered under the
 * request's own signal. After the handover it is all that is kept for the subscription besides
 * its fan-out sink: the cleanups the ended generator chain left behind, run once when the
 * client stops, the socket closes or the session ends.
 */
export class SubscriptionClaim implements StreamClaim {
  handedOver = false;
  private cleanups: (() => void)[] | null = [];

  constructor(
    readonly hub: FanoutHub,
    readonly conn: ClaimOwner,
    readonly head: string,
    readonly id: RequestId,
    readonly jsonrpc: '2.0' | undefined,
    readonly path: string,
    readonly ac: AbortController,
  ) {}

  join<T, L>(topic: Topic<BusEvent<T, L>>, caughtUp: BusEvent<T, L>[]) {
    this.handOver(this.hub.attach({ topic, toWire, conn: this.conn, head: this.head, caughtUp }));
  }

  /** Served by the fan-out from now on; `detach` runs when the subscription ends. */
  private handOver(detach: () => void) {
    this.handedOver = true;
    this.onEnd(detach);
    if (this.ac.signal.aborted) return this.end(null);
    this.ac.signal.addEventListener('abort', this, { once: true });
  }

  onEnd(fn: () => void) {
    if (this.cleanups) this.cleanups.push(fn);
    else fn();
  }

  /** The session watch's error, as the client must see it. */
  endWith(error: Error) {
    this.end(toTRPCError(getTRPCErrorFromUnknown(error)));
  }

  /** The claim itself listens on the request's signal (no closure per subscription): client stop or socket closed. */
  handleEvent() {
    this.end(null);
  }

  /** Once: the cleanups in the order they were left (the fan-out detach first), then the answer. */
  end(error: TRPCError | null) {
    const fns = this.cleanups;
    if (!fns) return;
    this.cleanups = null;
    let failure: unknown = null;
    for (const fn of fns) {
      try {
        fn();
      } catch (err) {
        failure ??= err;
      }
    }
    // Reported, not thrown: this runs from abort listeners, where a throw would be uncaught.
    this.conn.handedOverEnded(this, error, failure);
  }
}
