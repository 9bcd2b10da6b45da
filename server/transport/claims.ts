import type { Topic } from '../realtime/bus';
import type { BusEvent } from '../realtime/resumable';
import type { FanoutConnection, FanoutHub } from './fanout';
import type { WireEvent } from './frames';

/**
 * What our WebSocket adapter registers, under the request's own AbortSignal, for each
 * subscription it serves: the right for the stream to leave its catch-up generator and join
 * the topic's fan-out. Other callers (createCaller, HTTP) find nothing and get a plain generator.
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
  return (caughtUp: BusEvent<T, L>[]) => claim.hub.attach({ topic, toWire, conn: claim.conn, head: claim.head, caughtUp });
}
