import type { EventBus, Topic } from './bus';
import { afterStream, handoverTo } from './handover';
import { resumable, type BusEvent, type ResumableOptions } from './resumable';

/**
 * The signals of one subscription request, named for what they are. `sessionSignal` aborts when
 * the session ends and also when the request does (the session watch, ctx.sessionSignal): the
 * one a stream waits on. `requestSignal` is the transport's own (client stop, socket closed):
 * the key under which a transport may offer the hand-over (realtime/handover.ts).
 */
export interface StreamScope {
  sessionSignal: AbortSignal | undefined;
  requestSignal: AbortSignal | undefined;
}

type Declared<T, L> = Omit<ResumableOptions<T, L>, 'signal' | 'handover' | 'subscribe' | 'authorize'>;

/**
 * A stream of a topic every subscriber shares (market series, discovery, vault): the same events
 * for all, so none is authorised per event. Over a transport that offers it, the caught-up
 * subscription joins the topic's one fan-out. `onEnd` runs when the subscription really ends,
 * which for a handed-over one is after this generator has returned.
 */
export async function* sharedTopic<T, L = never>(
  scope: StreamScope,
  opts: Declared<T, L> & { bus: EventBus; topic: Topic<BusEvent<T, L>>; onEnd?: () => void },
) {
  const { bus, topic, onEnd, ...rest } = opts;
  try {
    yield* resumable<T, L>({
      ...rest,
      signal: scope.sessionSignal ?? scope.requestSignal,
      subscribe: (push) => bus.subscribe(topic, push),
      handover: handoverTo(scope.requestSignal, topic),
    });
  } finally {
    if (onEnd) afterStream(scope.requestSignal, onEnd);
  }
}

/**
 * A stream whose events differ per subscriber (a user's inbox, chat, collections): always
 * served by its own generator, each event checked by `authorize` when given.
 */
export function userStream<T, L = never>(
  scope: StreamScope,
  opts: Omit<ResumableOptions<T, L>, 'signal' | 'handover'>,
) {
  return resumable<T, L>({ ...opts, signal: scope.sessionSignal ?? scope.requestSignal });
}
