/**
 * The wait after the n-th failure in a row (n ≥ 1): `minMs`, twice that, four times … at most
 * `maxMs`. The same curve as p-retry's defaults (factor 2, without jitter), so a log line can
 * name the wait p-retry is about to take. Units are the caller's: seconds work as well.
 */
export function backoff(failures: number, minMs: number, maxMs: number): number {
  return Math.min(minMs * 2 ** (Math.max(1, failures) - 1), maxMs);
}
