import { randomUUID } from 'node:crypto';
import { getTRPCErrorFromUnknown, TRPCError } from '@trpc/server';

/** Codes a service may use: each maps to the tRPC code of the same name. */
export type AppErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PRECONDITION_FAILED'
  | 'TOO_MANY_REQUESTS'
  | 'PAYLOAD_TOO_LARGE'
  | 'BAD_GATEWAY'
  | 'SERVICE_UNAVAILABLE';

/**
 * A domain error a service throws: the message is shown to the person as is, so it says what
 * happened and what to do. Services stay free of tRPC; `toTRPCError` maps it.
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: AppErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const GENERIC_ERROR_MESSAGE =
  'Something went wrong on our side. If it keeps happening, report it with this request id.';

/**
 * The AppError behind a failure becomes the TRPCError the client sees, with the AppError as its
 * `cause` (its own cause, an upstream failure say, stays on the chain for the log). Called where
 * tRPC hands us the failure: the first middleware (trpc.ts) for a procedure, and the WebSocket
 * adapter for what a stream throws while it runs, past that middleware. tRPC then derives the
 * HTTP status and JSON-RPC code from the mapped code.
 */
export function toTRPCError(error: TRPCError): TRPCError {
  const cause = error.cause;
  if (cause instanceof AppError) return new TRPCError({ code: cause.code, message: cause.message, cause });
  return error;
}

/**
 * For a stream tRPC serves itself (server-sent events): what it throws while it runs is mapped
 * as the WebSocket adapter maps it, or tRPC would send an AppError (the session ended, a reader
 * too slow) as INTERNAL_SERVER_ERROR, which its client takes for retryable.
 */
export async function* withTRPCErrors<T>(stream: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (err) {
    throw toTRPCError(getTRPCErrorFromUnknown(err));
  }
}

// One id per failure, shared by the answer (errorFormatter) and the log line (onError), which
// tRPC calls separately with the same error object.
const ids = new WeakMap<object, string>();
export function requestIdOf(error: object): string {
  let id = ids.get(error);
  if (!id) ids.set(error, (id = randomUUID()));
  return id;
}
