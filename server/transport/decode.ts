import { TRPCError } from '@trpc/server';
import superjson from 'superjson';

// superjson walks `meta` recursively and follows its referentialEqualities, so a crafted
// 60-byte meta can build a cycle or recurse until the stack overflows. Everything a client
// sends is checked here first, without recursion, and bounded.
const MAX_META_DEPTH = 32;
const MAX_META_NODES = 10_000;
const MAX_VALUE_DEPTH = 64;
// Shared references (a DAG) are walked once per path: the cap stops an exponential fan-out.
const MAX_VALUE_NODES = 1_000_000;
const META_KEYS = new Set(['values', 'referentialEqualities', 'v']);

const malformed = (cause?: unknown) => new TRPCError({ code: 'BAD_REQUEST', message: 'malformed request body', cause });

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when `root` holds at most `maxNodes` objects/arrays, nested at most `maxDepth` deep. */
function bounded(root: unknown, maxDepth: number, maxNodes: number): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  let nodes = 0;
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    // A cycle never ends, so it runs into one of the two bounds.
    if (depth > maxDepth || ++nodes > maxNodes) return false;
    const children = v instanceof Map ? [...v.keys(), ...v.values()] : v instanceof Set ? [...v] : Object.values(v);
    for (const child of children) stack.push([child, depth + 1]);
  }
  return true;
}

/**
 * The server's input deserializer (HTTP and WebSocket): accepts only a superjson envelope
 * `{ json, meta? }` with a bounded meta, and answers anything else with BAD_REQUEST.
 */
export function decodeInput(raw: unknown): unknown {
  // A WebSocket message may leave `input` out entirely: that is no input, not a bad one.
  if (raw === undefined) return undefined;
  if (!isPlainObject(raw) || !('json' in raw) || Object.keys(raw).some((k) => k !== 'json' && k !== 'meta'))
    throw malformed();
  const { json, meta } = raw;
  if (meta === undefined) return json;
  if (
    !isPlainObject(meta) ||
    Object.keys(meta).some((k) => !META_KEYS.has(k)) ||
    !bounded(meta, MAX_META_DEPTH, MAX_META_NODES)
  )
    throw malformed();
  let value: unknown;
  try {
    value = superjson.deserialize({ json: json as never, meta: meta as never });
  } catch (err) {
    throw malformed(err);
  }
  // referentialEqualities may have turned the tree into a cycle: no input may be one.
  if (!bounded(value, MAX_VALUE_DEPTH, MAX_VALUE_NODES)) throw malformed();
  return value;
}
