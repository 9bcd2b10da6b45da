import { TRPCError } from '@trpc/server';
import { isObject } from './internals';

export type RequestId = string | number;

export type ClientMessage =
  | { id: RequestId; jsonrpc: '2.0' | undefined; method: 'subscription.stop' }
  | {
      id: RequestId;
      jsonrpc: '2.0' | undefined;
      method: 'query' | 'mutation' | 'subscription';
      params: { path: string; input: unknown; lastEventId: string | undefined };
    };

/** Anything a client sent that we cannot read: one answer, never a crash or a stack. PARSE_ERROR (-32700), as tRPC answers. */
export const malformed = (why?: string) =>
  new TRPCError({ code: 'PARSE_ERROR', message: why ? `malformed request: ${why}` : 'malformed request' });

/** The JSON a text holds, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A text frame's messages (one, or a batch); what is not JSON is one PARSE_ERROR for the frame, answered with `id: null`. */
export function parseFrame(text: string | null): unknown[] | TRPCError {
  if (text === null) return malformed('binary frames are not read: send JSON text');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    // tRPC's answer: the parser's own message says where the text stops being JSON.
    return new TRPCError({ code: 'PARSE_ERROR', cause });
  }
  return Array.isArray(parsed) ? parsed : [parsed];
}

/**
 * tRPC's `parseTRPCMessage`, failing with PARSE_ERROR as it does, but the input goes through
 * the router's input deserializer (decode.ts, shared with HTTP) and `id` is returned with the
 * error when it could be read, so the client's own call fails rather than nothing answering it
 * (tRPC answers the whole frame with `id: null`: docs/decisions/007-own-ws-adapter.md).
 */
export function parseClientMessage(
  raw: unknown,
  deserialize: (input: unknown) => unknown,
): { ok: true; msg: ClientMessage } | { ok: false; id: RequestId | null; jsonrpc?: '2.0'; error: TRPCError } {
  if (!isObject(raw)) return { ok: false, id: null, error: malformed('not an object') };
  const { id, jsonrpc, method, params } = raw;
  const validId = typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
  if (!validId) {
    return id === null || id === undefined
      ? { ok: false, id: null, error: new TRPCError({ code: 'PARSE_ERROR', message: '`id` is required' }) }
      : { ok: false, id: null, error: malformed('invalid id') };
  }
  const rpc: '2.0' | undefined = jsonrpc === '2.0' ? '2.0' : undefined;
  const fail = (why: string) => ({ ok: false as const, id, jsonrpc: rpc, error: malformed(why) });
  if (jsonrpc !== undefined && jsonrpc !== '2.0') return fail('jsonrpc must be "2.0"');
  if (method === 'subscription.stop') return { ok: true, msg: { id, jsonrpc: rpc, method } };
  if (method !== 'query' && method !== 'mutation' && method !== 'subscription') return fail('unknown method');
  if (!isObject(params) || typeof params.path !== 'string') return fail('params.path is required');
  if (params.lastEventId !== undefined && typeof params.lastEventId !== 'string')
    return fail('lastEventId must be a string');
  let input: unknown;
  try {
    input = deserialize(params.input);
  } catch (err) {
    // decode.ts says BAD_REQUEST, as HTTP answers; on a WebSocket a message tRPC cannot read is a PARSE_ERROR.
    return {
      ok: false,
      id,
      jsonrpc: rpc,
      error:
        err instanceof TRPCError && err.code === 'BAD_REQUEST'
          ? new TRPCError({ code: 'PARSE_ERROR', message: err.message })
          : malformed('input could not be decoded'),
    };
  }
  return {
    ok: true,
    msg: { id, jsonrpc: rpc, method, params: { path: params.path, input, lastEventId: params.lastEventId } },
  };
}
