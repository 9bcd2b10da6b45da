import pino from 'pino';
import pretty from 'pino-pretty';
import { UpstreamError } from './upstream/error';

export type Logger = pino.Logger;

const HASH = /scrypt\$[^\s"']+/g;
// drizzle's DrizzleQueryError message is "Failed query: <sql>\nparams: <values>".
const QUERY_TEXT = /Failed query:[\s\S]*/;
const MAX_CAUSES = 5;

function scrub(message: string): string {
  return message.replace(QUERY_TEXT, 'Failed query (statement and parameters not logged)').replace(HASH, '[hash]');
}

/** An upstream being down is expected, not a bug in our code: its stack says nothing new. */
function isUpstreamFailure(err: unknown, depth = 0): boolean {
  return (
    err instanceof UpstreamError ||
    (err instanceof Error && err.cause !== undefined && depth < MAX_CAUSES && isUpstreamFailure(err.cause, depth + 1))
  );
}

/**
 * Errors are logged by allow-list: type, code, message and stack of each cause, never the
 * enumerable fields database drivers add (postgres.js and PGlite attach `query` and
 * `parameters`, which hold password hashes and tokens). A failed upstream call (an
 * UpstreamError, or an error caused by one) is logged without stacks unless `stacks` is set
 * (LOG_LEVEL=debug or trace): one line with its reason.
 */
export function serializeError(err: unknown, depth = 0, stacks = true): unknown {
  if (!(err instanceof Error)) return typeof err === 'string' ? scrub(err) : { type: typeof err };
  return serializeOne(err, depth, stacks || !isUpstreamFailure(err));
}

function serializeOne(err: Error, depth: number, withStack: boolean): unknown {
  const type = err.constructor?.name ?? 'Error';
  const message = scrub(err.message);
  const frames = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  const code = (err as { code?: unknown }).code;
  const cause = err.cause;
  return {
    type,
    message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(withStack ? { stack: [`${type}: ${message}`, ...frames].join('\n') } : {}),
    ...(cause !== undefined && depth < MAX_CAUSES
      ? { cause: cause instanceof Error ? serializeOne(cause, depth + 1, withStack) : serializeError(cause, depth + 1) }
      : {}),
  };
}

export type LogFormat = 'auto' | 'pretty' | 'json';

/**
 * Where lines go when no destination is given: readable single lines on a terminal, JSON
 * (one object a line, for log shippers) when stdout is piped, in production, or when
 * LOG_FORMAT=json. The pretty printer receives the JSON after redaction, so it shows no secret.
 */
function defaultDestination(format: LogFormat, production: boolean): pino.DestinationStream | undefined {
  const usePretty = format === 'pretty' || (format === 'auto' && !production && process.stdout.isTTY === true);
  if (!usePretty) return undefined;
  return pretty({
    colorize: process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    // The error goes into the message (below), the other fields follow on the same line.
    ignore: 'pid,hostname,err,error',
    singleLine: true,
    sync: true,
    messageFormat: (log, messageKey) => withError(String(log[messageKey] ?? ''), log.err ?? log.error),
  });
}

type Serialized = { type?: string; message?: string; stack?: string; cause?: unknown };

/** "msg — Type: reason ← Cause: reason"; a stack (our own bug, or LOG_LEVEL=debug) follows on its own lines. */
function withError(msg: string, value: unknown): string {
  if (!value || typeof value !== 'object') return value === undefined ? msg : `${msg} — ${String(value)}`;
  const parts: string[] = [];
  let stack: string | undefined;
  for (
    let e = value as Serialized | undefined;
    e && typeof e === 'object' && parts.length <= MAX_CAUSES;
    e = e.cause as Serialized | undefined
  ) {
    parts.push(`${e.type ?? 'Error'}: ${e.message ?? ''}`);
    stack ??= e.stack;
  }
  return `${msg} — ${parts.join(' ← ')}${stack ? `\n${stack.split('\n').slice(1).join('\n')}` : ''}`;
}

export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  opts: { format?: LogFormat; production?: boolean } = {},
): Logger {
  const stacks = level === 'debug' || level === 'trace';
  const serialize = (err: unknown) => serializeError(err, 0, stacks);
  return pino(
    {
      level,
      // Never let a secret reach the logs, whatever object is logged.
      redact: [
        'password',
        'token',
        'secret',
        'cookie',
        'accessToken',
        'appSecret',
        '*.password',
        '*.passwordHash',
        '*.token',
        '*.secret',
        '*.secrets',
        'secrets',
        '*.cookie',
        '*.accessToken',
        '*.appSecret',
        'req.headers.cookie',
        'req.headers.authorization',
        'headers.cookie',
        'headers.authorization',
      ],
      serializers: { err: serialize, error: serialize },
    },
    destination ?? defaultDestination(opts.format ?? 'auto', opts.production ?? false),
  );
}
