/**
 * Polls `condition` until it returns a truthy value, and returns that value. Events travel
 * through sockets, timers and other processes, so tests wait for what they expect to see,
 * never for a fixed time. A condition that throws counts as "not yet"; its last error is
 * named if the deadline passes. Deadlines are generous: a busy machine is slow, not broken.
 *
 * With `progress`, the deadline is a stall limit instead: it restarts whenever the value
 * `progress` returns changes, so a big job that keeps moving on a starved machine is not failed
 * for being slow, and one that stops is failed `timeoutMs` after it stopped.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  opts: { what: string; timeoutMs?: number; intervalMs?: number; progress?: () => unknown },
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 45_000;
  let deadline = Date.now() + timeoutMs;
  let seen = opts.progress?.();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    const now = opts.progress?.();
    if (now !== seen) {
      seen = now;
      deadline = Date.now() + timeoutMs;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last check: ${lastError.message})` : '';
      const stalled = opts.progress ? ` (stalled at ${JSON.stringify(seen)})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}${stalled}${why}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}
