/** What `untilAborted` resolves with when the signal won. */
export const ABORTED = Symbol('aborted');

/**
 * Waits for `promise` or for `signal` to abort, whichever comes first. The abort listener
 * lives only for this one wait: racing every event against one long-pending promise would
 * attach a reaction per event to it and keep every event reachable for the whole stream.
 * The one way the server races a wait against an abort (the session guard, the WebSocket adapter).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
