/**
 * Polls `condition` until it returns a truthy value, and returns that value. Events travel
 * through sockets, timers and other processes, so tests wait for what they expect to see,
 * never for a fixed time. A condition that throws counts as "not yet"; its last error is
 * named if the deadline passes. Deadlines are generous: a busy machine is slow, not broken.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, opts: { what: string; timeoutMs?: number; intervalMs?: number }): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 45_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last check: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}${why}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}
