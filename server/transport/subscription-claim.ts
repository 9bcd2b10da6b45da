import type { TRPCError } from '@trpc/server';
import type { FanoutClaim } from './claims';
import type { FanoutConnection, FanoutHub } from './fanout';
import type { RequestId } from './messages';

/** What a claim needs from its connection once the subscription it stands for ends. */
export interface ClaimOwner extends FanoutConnection {
  /** Sends the error (if any) and `stopped`, forgets the subscription, logs a cleanup that threw. */
  handedOverEnded(claim: SubscriptionClaim, error: TRPCError | null, cleanupFailure: unknown): void;
}

/**
 * One subscription's claim on the fan-out (transport/claims.ts). After the handover it is all
 * that is kept for the subscription besides its fan-out sink: the cleanups the ended generator
 * chain left behind, run once when the client stops, the socket closes or the session ends.
 */
export class SubscriptionClaim implements FanoutClaim {
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

  handOver(detach: () => void) {
    this.handedOver = true;
    this.onEnd(detach);
    if (this.ac.signal.aborted) return this.end(null);
    this.ac.signal.addEventListener('abort', this, { once: true });
  }

  onEnd(fn: () => void) {
    if (this.cleanups) this.cleanups.push(fn);
    else fn();
  }

  endWith(error: TRPCError) {
    this.end(error);
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
