import { TRPCError } from '@trpc/server';
import { isObject } from '@trpc/server/unstable-core-do-not-import';
import superjson from 'superjson';

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
 * input goes through `decodeInput`. `id` is returned with the error when it could be read,
 * so the client's own call fails rather than nothing answering it.
 */
export function parseClientMessage(raw: unknown): { ok: true; msg: ClientMessage } | { ok: false; id: RequestId | null; jsonrpc?: '2.0'; error: TRPCError } {
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
  const input = decodeInput(params.input);
  if (!input.ok) return fail(input.why);
  return { ok: true, msg: { id, jsonrpc: rpc, method, params: { path: params.path, input: input.value, lastEventId: params.lastEventId } } };
}

/**
 * superjson input as a client may send it. Referential equalities are refused: they let 60
 * bytes build a cyclic object that validation then recurses through until the stack overflows.
 */
export function decodeInput(raw: unknown): { ok: true; value: unknown } | { ok: false; why: string } {
  if (raw === undefined) return { ok: true, value: undefined };
  // `{ json: undefined }` reaches us as `{}`: JSON drops the undefined.
  if (!isObject(raw)) return { ok: false, why: 'input must be superjson ({ json, meta? })' };
  const { meta } = raw;
  if (meta !== undefined && (!isObject(meta) || 'referentialEqualities' in meta)) return { ok: false, why: 'unsupported input meta' };
  try {
    return { ok: true, value: superjson.deserialize(raw as never) };
  } catch {
    return { ok: false, why: 'input could not be decoded' };
  }
}
