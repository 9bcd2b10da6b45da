import { getTRPCErrorFromUnknown, isTrackedEnvelope, type TRPCError } from '@trpc/server';
import { ABORTED, untilAborted } from '../abort';
import { toTRPCError } from '../errors';
import { dataMessage, encodeValue, type EncodedEvent, type Serialize } from './frames';
import type { SubscriptionClaim } from './subscription-claim';

/**
 * The generator path of a subscription (replays, per-user streams): reads it and sends each
 * value as a data message until it ends, its request aborts, or it is handed over to the fan-out
 * (a shared topic, once caught up: the claim then stands for it). Returns the stream's error,
 * mapped as a procedure's would be.
 */
export async function pumpSubscription(
  iterable: AsyncIterable<unknown>,
  o: { signal: AbortSignal; claim: SubscriptionClaim; serialize: Serialize; conn: { send(message: string): void } },
): Promise<TRPCError | null> {
  const head = o.claim.head;
  const it = iterable[Symbol.asyncIterator]();
  // Outside the loop and cleared after each send: a block-scoped value stays reachable from the
  // suspended frame across the next wait, until the next value arrives (tRPC's #6156).
  let next: IteratorResult<unknown> | typeof ABORTED | null;
  let enc: EncodedEvent | null;
  try {
    for (;;) {
      // Not asked for more once aborted: a return() queued behind a pending next() would wait for it.
      next = o.signal.aborted ? ABORTED : await untilAborted(it.next(), o.signal);
      if (next === ABORTED || o.claim.handedOver) {
        // Not awaited: a resolver blocked in a wait that ignores its signal would hold us here.
        it.return?.(undefined).catch(() => {});
        return null;
      }
      if (next.done) return null;
      enc = isTrackedEnvelope(next.value)
        ? encodeValue(next.value[0], next.value[1], o.serialize)
        : encodeValue(null, next.value, o.serialize);
      o.conn.send(dataMessage(head, enc));
      next = enc = null;
    }
  } catch (cause) {
    // A stream's AppError is thrown here, past the middleware that maps a procedure's: map it alike.
    return toTRPCError(getTRPCErrorFromUnknown(cause));
  }
}
