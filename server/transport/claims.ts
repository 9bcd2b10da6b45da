import type { TRPCError } from '@trpc/server';
import type { Topic } from '../realtime/bus';
import type { BusEvent } from '../realtime/resumable';
import type { FanoutConnection, FanoutHub } from './fanout';
import type { WireEvent } from './frames';

/**
 * What our WebSocket adapter registers, under the request's own AbortSignal, for each
 * subscription it serves: the right for the stream to leave its catch-up generator and join
 * the topic's fan-out. Other callers (createCaller, HTTP) find nothing and get a plain generator.
 *
 * Once handed over, the generator chain (stream, resolver, tRPC middlewares, session guard)
 * ends and is collected: an idle subscription must not keep a parked chain of generators and
 * promises. What those layers still have to do when the subscription ends (detach from the
 * topic, release the feed, stop the session watch, count it closed) they leave here with
 * `afterStream`, and the session guard hands its watch over with `endStreamWith`.
 */
export interface FanoutClaim {
  readonly hub: FanoutHub;
  readonly conn: FanoutConnection;
  readonly head: string;
  readonly handedOver: boolean;
  /** Marks the subscription as served by the fan-out from now on; `detach` runs when it ends. */
  handOver(detach: () => void): void;
  /** Runs `fn` when the handed-over subscription ends (at once if it has). */
  onEnd(fn: () => void): void;
  /** Ends the handed-over subscription with an error (the session ended). */
  endWith(error: TRPCError): void;
}

/**
 * Yielded by a stream once it has handed its live part over: the adapter stops reading the
 * generator there and lets the chain return. Never reaches a client.
 */
export const HANDED_OVER: unique symbol = Symbol('handed over to the fan-out');

const claims = new WeakMap<AbortSignal, FanoutClaim>();

export function registerClaim(signal: AbortSignal, claim: FanoutClaim) {
  claims.set(signal, claim);
}

const handedOverClaim = (requestSignal: AbortSignal | undefined) => {
  const claim = requestSignal ? claims.get(requestSignal) : undefined;
  return claim?.handedOver ? claim : undefined;
};

/**
 * For a layer's `finally`: a subscription handed over to the fan-out has not ended when its
 * generator returns, so `fn` waits for the real end; anything else runs `fn` now.
 */
export function afterStream(requestSignal: AbortSignal | undefined, fn: () => void) {
  const claim = handedOverClaim(requestSignal);
  if (claim) claim.onEnd(fn);
  else fn();
}

/** For a layer's `finally`: a handed-over subscription is ended by `ender` (the session watch) from now on. */
export function endStreamWith(requestSignal: AbortSignal | undefined, ender: { handOff(target: { endWith(error: TRPCError): void }): void }) {
  const claim = handedOverClaim(requestSignal);
  if (claim) ender.handOff(claim);
}

/**
 * What the generator path would yield: a stored event tracked by its id (the client sees
 * `{ id, data }`), a live-only event as itself, untracked (the client sees `{ data }` too).
 */
const toWire = (e: BusEvent<unknown, unknown>): WireEvent => (e.id === undefined ? { trackedId: null, data: e } : { trackedId: String(e.id), data: e.data });

/**
 * The `handover` a shared topic's `resumable()` takes when the request came through our
 * WebSocket adapter: once caught up, the subscription joins the topic's one fan-out loop.
 */
export function fanoutHandover<T, L>(requestSignal: AbortSignal | undefined, topic: Topic<BusEvent<T, L>>) {
  const claim = requestSignal ? claims.get(requestSignal) : undefined;
  if (!claim) return undefined;
  return (caughtUp: BusEvent<T, L>[]) => claim.handOver(claim.hub.attach({ topic, toWire, conn: claim.conn, head: claim.head, caughtUp }));
}
