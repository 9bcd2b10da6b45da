import { TRPCError } from '@trpc/server';
import { isObject } from '@trpc/server/unstable-core-do-not-import';

export type RequestId = string | number;

export type ClientMessage =
  | { id: RequestId; jsonrpc: '2.0' | undefined; method: 'subscription.stop' }
  | {
      id: RequestId;
      jsonrpc: '2.0' | undefined;
      method: 'query' | 'mutation' | 'subscription';
      params: { path: string; input: unknown; lastEventId: string | undefined };
    };

/** Anything a client sent that we cannot read: one answer, never a crash or a stack. */
export const malformed = (why?: string) => new TRPCError({ code: 'BAD_REQUEST', message: why ? `malformed request: ${why}` : 'malformed request' });

/**
 * tRPC's `parseTRPCMessage`, but every failure is BAD_REQUEST "malformed request" and the
 * input goes through the router's input deserializer (decode.ts, shared with HTTP). `id` is
 * returned with the error when it could be read, so the client's own call fails rather than
 * nothing answering it.
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
  if (params.lastEventId !== undefined && typeof params.lastEventId !== 'string') return fail('lastEventId must be a string');
  let input: unknown;
  try {
    input = deserialize(params.input);
  } catch (err) {
    return { ok: false, id, jsonrpc: rpc, error: err instanceof TRPCError && err.code === 'BAD_REQUEST' ? err : malformed('input could not be decoded') };
  }
  return { ok: true, msg: { id, jsonrpc: rpc, method, params: { path: params.path, input, lastEventId: params.lastEventId } } };
}
