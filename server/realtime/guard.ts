import { ABORTED, untilAborted } from '../abort';
import type { AppError } from '../errors';
import { afterStream, endStreamWith } from './handover';

/** The session of one subscription, as the guard needs it (modules/auth/session-watch.ts keeps them). */
export interface SessionWatch {
  /** Aborts when the session is revoked or expires, or when the request's own signal (if given) aborts. */
  signal: AbortSignal;
  isValid(): boolean;
  error(): AppError;
  stop(): void;
  /**
   * From now on a session end calls `target.endWith(error)` instead of aborting `signal`, and
   * the watch lets its signal go: a subscription handed over to the fan-out keeps no
   * AbortSignal for its session (realtime/handover.ts).
   */
  handOff(target: { endWith(error: AppError): void }): void;
}

/**
 * Wraps a subscription's iterable: counts it while open and, for authed subscriptions,
 * re-checks the session before every event and ends the stream the moment it is revoked.
 */
export async function* guardSubscription<T>(
  source: AsyncIterable<T>,
  opts: { onStart?: () => () => void; watch?: SessionWatch; requestSignal?: AbortSignal },
): AsyncGenerator<T> {
  // Counted from the first read: a subscription the adapter never iterates never ran.
  const onEnd = opts.onStart?.();
  const it = source[Symbol.asyncIterator]();
  const { watch } = opts;
  try {
    for (;;) {
      const next = watch ? await untilAborted(it.next(), watch.signal) : await it.next();
      // The watch's signal also aborts with the request (client stop): only a session end is an error.
      if (watch && !watch.isValid()) throw watch.error();
      if (next === ABORTED || next.done) return;
      yield next.value;
    }
  } finally {
    // A subscription handed over to the fan-out outlives this generator: the session cut and
    // the cleanup move onto its claim (realtime/handover.ts), so nothing stays parked here.
    if (watch) endStreamWith(opts.requestSignal, watch);
    afterStream(opts.requestSignal, () => {
      watch?.stop();
      onEnd?.();
    });
    // Not awaited: a resolver still blocked in a wait that ignores ctx.sessionSignal would hold us here.
    it.return?.(undefined).catch(() => {});
  }
}
