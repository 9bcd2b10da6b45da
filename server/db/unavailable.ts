import pRetry from 'p-retry';

// postgres.js's own codes for a connection that went away, and Postgres's SQLSTATEs for
// "connection exception" (class 08) and "operator intervention" (57P01–57P03: shutdown, restart).
const DRIVER_CODES = new Set([
  'CONNECTION_ENDED',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
]);
const SQLSTATES = new Set(['57P01', '57P02', '57P03']);

/** True when the error (or one it wraps, as drizzle does) says the database was unreachable, not that the query was wrong. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (DRIVER_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08')) return true;
    // "database … is not currently accepting connections" while it is being restarted or closed off.
    if (code === '55000' && /accepting connections/.test(String((e as { message?: unknown }).message))) return true;
  }
  return false;
}

/**
 * Runs a read again, with back-off for about ten seconds, while the database is unreachable:
 * a subscription resuming right after an outage should wait for the database, not end in an error.
 */
export function retryWhileDatabaseUnavailable<T>(read: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return pRetry(read, {
    retries: 8,
    minTimeout: 100,
    maxTimeout: 2_000,
    signal,
    shouldRetry: ({ error }) => isDatabaseUnavailable(error),
  });
}
