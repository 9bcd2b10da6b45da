import pRetry from 'p-retry';
import type { Logger } from '../log';
import { backoff } from '../backoff';
import { openDatabase, type Database } from './client';
import { isDatabaseUnavailable } from './unavailable';

// Starting before Postgres is up (a compose file, a host reboot) is ordinary, not a crash: each
// failed attempt is one line saying what, where and when the next try is, with back-off, and
// after the last attempt one final line and a StartupError for main.ts to exit 1 on. A start that
// can never work (wrong password, no such database) is said once, without retries.

export interface ConnectRetry {
  /** Attempts after the first; 0 = fail at once. */
  retries: number;
  /** The first wait; each next one doubles, up to `maxMs`. */
  minMs: number;
  maxMs: number;
}

/** The start cannot go on; `message` is the whole story (no stack to print). */
export class StartupError extends Error {}

// At start a name that does not resolve yet, or a network that is not up yet, is as transient
// as a refused connection (a container that starts before its database's DNS entry exists).
const NOT_YET = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);
const notYet = (err: unknown) =>
  isDatabaseUnavailable(err) || NOT_YET.has(String((err as { code?: unknown } | null)?.code));

/** The database's address for a log line: scheme, user, host, port and database, never the password or query options. */
export function databaseWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${u.username}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}

/** The error that says why: drizzle wraps the driver's ("Failed query: <sql>") and carries it as the cause. */
function rootOf(err: unknown): unknown {
  let e = err;
  for (
    let depth = 0;
    depth < 5 && e instanceof Error && e.cause !== undefined && typeof (e as { code?: unknown }).code !== 'string';
    depth++
  )
    e = e.cause;
  return e;
}

/** "ECONNREFUSED", or Postgres's own sentence with its SQLSTATE: enough to act on, no stack, no SQL. */
function reason(err: unknown): string {
  const e = rootOf(err) as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  // AggregateError (several addresses refused) has an empty message; its code says it all.
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0]!.trim() : '';
  if (!message || message.startsWith('Failed query')) return code || 'unknown error';
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(ms < 1000 ? 2 : 1))} s`;

/** Opens Postgres (migrating it), retrying while it is unreachable; throws StartupError when it gives up. */
export async function openPostgresWithRetry(url: string, retry: ConnectRetry, log: Logger): Promise<Database> {
  const where = databaseWhere(url);
  const attempts = retry.retries + 1;
  try {
    return await pRetry(() => openDatabase({ url }), {
      retries: retry.retries,
      minTimeout: retry.minMs,
      maxTimeout: retry.maxMs,
      factor: 2,
      shouldRetry: ({ error }) => notYet(error),
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (!notYet(error) || retriesLeft === 0) return;
        // The wait p-retry takes next (factor 2, no jitter).
        const wait = backoff(attemptNumber, retry.minMs, retry.maxMs);
        log.warn(
          { database: where, attempt: attemptNumber, attempts, retryInMs: wait },
          `database ${where} unreachable: ${reason(error)}; attempt ${attemptNumber} of ${attempts}, next try in ${seconds(wait)}`,
        );
      },
    });
  } catch (err) {
    const message = notYet(err)
      ? `database ${where} still unreachable after ${attempts} attempt${attempts === 1 ? '' : 's'} (${reason(err)}); giving up (DATABASE_CONNECT_RETRIES sets how many tries)`
      : `database ${where} refused to start: ${reason(err)}`;
    // A Postgres or driver answer (a code) says everything; anything else may be our bug: keep its stack.
    const coded = typeof (rootOf(err) as { code?: unknown } | null)?.code === 'string';
    log.fatal(coded ? { database: where } : { database: where, err }, message);
    throw new StartupError(message);
  }
}
