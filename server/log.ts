import pino from 'pino';

export type Logger = pino.Logger;

const HASH = /scrypt\$[^\s"']+/g;
// drizzle's DrizzleQueryError message is "Failed query: <sql>\nparams: <values>".
const QUERY_TEXT = /Failed query:[\s\S]*/;
const MAX_CAUSES = 5;

function scrub(message: string): string {
  return message.replace(QUERY_TEXT, 'Failed query (statement and parameters not logged)').replace(HASH, '[hash]');
}

/**
 * Errors are logged by allow-list: type, code, message and stack of each cause, never the
 * enumerable fields database drivers add (postgres.js and PGlite attach `query` and
 * `parameters`, which hold password hashes and tokens).
 */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return typeof err === 'string' ? scrub(err) : { type: typeof err };
  const type = err.constructor?.name ?? 'Error';
  const message = scrub(err.message);
  const frames = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  const code = (err as { code?: unknown }).code;
  return {
    type,
    message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    stack: [`${type}: ${message}`, ...frames].join('\n'),
    ...(err.cause !== undefined && depth < MAX_CAUSES ? { cause: serializeError(err.cause, depth + 1) } : {}),
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      // Never let a secret reach the logs, whatever object is logged.
      redact: ['*.password', '*.passwordHash', '*.token', '*.secret', '*.secrets', 'req.headers.cookie', 'req.headers.authorization', 'headers.cookie', 'headers.authorization'],
      serializers: { err: serializeError, error: serializeError },
    },
    destination,
  );
}
