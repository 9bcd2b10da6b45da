import type { Topic } from './bus';
import type { BusEvent } from './resumable';

/**
 * What a transport offers a subscription it serves: the right for the stream to leave its
 * catch-up generator and join the topic's one fan-out loop. Defined here, implemented by the
 * transport (our WebSocket adapter registers one per subscription under the request's own
 * AbortSignal); other callers (createCaller, HTTP) register none and get a plain generator.
 *
 * Once handed over, the generator chain (stream, resolver, tRPC middlewares, session guard)
 * returns and is collected: an idle subscription must not keep a parked chain of generators and
 * promises. What those layers still have to do when the subscription ends (detach from the
 * topic, release the feed, stop the session watch, count it closed) they leave here with
 * `afterStream`, and the session guard hands its watch over with `endStreamWith`.
 */
export interface StreamClaim {
  /** True once the stream has joined the fan-out: its generator returning is not the subscription's end. */
  readonly handedOver: boolean;
  /** Serves the subscription from `topic`'s fan-out from now on, starting with the live events `caughtUp` held back. */
  join<T, L>(topic: Topic<BusEvent<T, L>>, caughtUp: BusEvent<T, L>[]): void;
  /** Runs `fn` when the handed-over subscription ends (at once if it has). */
  onEnd(fn: () => void): void;
  /** Ends the handed-over subscription with an error (the session ended). */
  endWith(error: Error): void;
}

const claims = new WeakMap<AbortSignal, StreamClaim>();

/** For a transport: `claim` stands for the subscription whose request carries `requestSignal`. */
export function registerClaim(requestSignal: AbortSignal, claim: StreamClaim) {
  claims.set(requestSignal, claim);
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
export function endStreamWith(
  requestSignal: AbortSignal | undefined,
  ender: { handOff(target: { endWith(error: Error): void }): void },
) {
  const claim = handedOverClaim(requestSignal);
  if (claim) ender.handOff(claim);
}

/**
 * The `handover` a shared topic's `resumable()` takes when the request came through a transport
 * that registered a claim: once caught up, the subscription joins the topic's fan-out.
 */
export function handoverTo<T, L>(requestSignal: AbortSignal | undefined, topic: Topic<BusEvent<T, L>>) {
  const claim = requestSignal ? claims.get(requestSignal) : undefined;
  if (!claim) return undefined;
  return (caughtUp: BusEvent<T, L>[]) => claim.join(topic, caughtUp);
}
