import type { SessionWatch } from '../auth/session-watch';

/**
 * Wraps a subscription's iterable: counts it while open and, for authed subscriptions,
 * re-checks the session before every event and ends the stream the moment it is revoked.
 */
export async function* guardSubscription<T>(
  source: AsyncIterable<T>,
  opts: { onStart?: () => () => void; watch?: SessionWatch },
): AsyncGenerator<T> {
  // Counted from the first read: a subscription the adapter never iterates never ran.
  const onEnd = opts.onStart?.();
  const it = source[Symbol.asyncIterator]();
  const { watch } = opts;
  const revoked = watch
    ? new Promise<'revoked'>((resolve) => watch.signal.addEventListener('abort', () => resolve('revoked'), { once: true }))
    : null;
  try {
    for (;;) {
      const next = revoked ? await Promise.race([it.next(), revoked]) : await it.next();
      if (watch && (next === 'revoked' || !watch.isValid())) throw watch.error();
      if (next === 'revoked' || next.done) return;
      yield next.value;
    }
  } finally {
    watch?.stop();
    onEnd?.();
    // Not awaited: a resolver still blocked in a wait that ignores ctx.signal would hold us here.
    it.return?.(undefined).catch(() => {});
  }
}
