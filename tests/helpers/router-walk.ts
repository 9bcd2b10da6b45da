import type { AnyProcedure, AnyRouter } from '@trpc/server';
import { z } from 'zod';

// The router's own description of itself, for tests generated from it: a procedure added
// tomorrow is walked by the fuzz, isolation and edge tests without editing them.

export type JsonSchema = z.core.JSONSchema._JSONSchema;
export type ProcedureType = 'query' | 'mutation' | 'subscription';

export interface WalkedProcedure {
  path: string;
  type: ProcedureType;
  procedure: AnyProcedure;
  /** The zod input (the first, when a procedure chains several), or null without one. */
  parser: z.ZodType | null;
  /** The same as JSON Schema (input side), to generate values from. */
  schema: JsonSchema | null;
  /** Set when the procedure has an input that is not zod: nothing can be generated for it. */
  problem?: string;
}

/** Every query, mutation and subscription of `router` (nested routers flattened by tRPC). */
export function walkRouter(router: AnyRouter): WalkedProcedure[] {
  return Object.entries(router._def.procedures as Record<string, AnyProcedure>).map(([path, procedure]) => {
    const inputs: unknown[] = procedure._def.inputs;
    const parser = inputs[0] instanceof z.ZodType ? inputs[0] : null;
    const problem =
      inputs.length > 1
        ? `${inputs.length} chained inputs (only the first is generated from)`
        : inputs.length && !parser
          ? 'its input is not a zod schema'
          : undefined;
    const schema = parser ? z.toJSONSchema(parser, { io: 'input', unrepresentable: 'any' }) : null;
    return { path, type: procedure._def.type as ProcedureType, procedure, parser, schema, problem };
  });
}

/** Text no answer (and no log line) may carry: SQL, driver error framing, password hashes, stacks. */
export const LEAKS = [
  /select /i,
  /insert into/i,
  /update "/i,
  /delete from/i,
  /scrypt\$/,
  /Failed query:/,
  /params:/,
  /\n\s+at /,
];

/** Valid-looking values for strings whose checks a placeholder would fail, by field name. */
const SAMPLES: Record<string, string> = {
  email: 'walker-sample@example.com',
  password: 'long enough password',
  symbol: 'BTCUSDT',
  chain: 'solana',
  profileUrl: `https://dexscreener.com/solana/${'A'.repeat(32)}`,
  lastEventId: '1',
  clientId: 'client-id-0001',
  room: 'discovery',
};

export type Path = (string | number)[];
export interface Slot {
  path: Path;
  schema: Exclude<JsonSchema, boolean>;
  /** Whether the parent object lists it as required (false for the root and array items). */
  required: boolean;
}

/** The chosen branch of a union (the first that is not null), or the schema itself. */
export function branch(schema: JsonSchema): Exclude<JsonSchema, boolean> {
  if (typeof schema === 'boolean') return {};
  const options = schema.anyOf ?? schema.oneOf;
  if (!options) return schema;
  return branch(options.find((o) => typeof o !== 'boolean' && o.type !== 'null') ?? options[0]!);
}

export const typeOf = (s: Exclude<JsonSchema, boolean>) =>
  Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;

/**
 * A valid-looking value of the schema's shape, and every position in it (`slots`, root first)
 * with the schema that governs it. Optional fields are filled too, so each can be attacked.
 */
export function sample(
  schema: JsonSchema,
  path: Path = [],
  slots: Slot[] = [],
  required = false,
): { value: unknown; slots: Slot[] } {
  const s = branch(schema);
  slots.push({ path, schema: s, required });
  const key = String(path.at(-1) ?? '');
  let value: unknown;
  if (s.const !== undefined) value = s.const;
  else
    switch (typeOf(s)) {
      case 'string':
        value = String(s.enum?.[0] ?? SAMPLES[key] ?? 'Sample');
        break;
      case 'number':
      case 'integer':
        value =
          s.default ?? s.minimum ?? (typeof s.exclusiveMinimum === 'number' ? Math.floor(s.exclusiveMinimum) + 1 : 1);
        break;
      case 'boolean':
        value = true;
        break;
      case 'array': {
        const item = Array.isArray(s.items) ? (s.items[0] ?? {}) : (s.items ?? {});
        value = [sample(item, [...path, 0], slots).value];
        break;
      }
      case 'object': {
        const req = new Set(s.required ?? []);
        value = Object.fromEntries(
          Object.entries(s.properties ?? {}).map(([k, v]) => [k, sample(v, [...path, k], slots, req.has(k)).value]),
        );
        break;
      }
      default:
        value = s.enum?.[0] ?? null;
    }
  return { value, slots };
}

/** `root` with the value at `path` replaced (or deleted, with `del`); own properties only, so "__proto__" is a plain key. */
export function setAt(root: unknown, path: Path, value: unknown, del = false): unknown {
  if (!path.length) return value;
  const copy = (Array.isArray(root) ? [...(root as unknown[])] : { ...(root as object) }) as Record<
    string | number,
    unknown
  >;
  const [head, ...rest] = path as [string | number, ...Path];
  if (!rest.length && del) delete copy[head];
  else
    Object.defineProperty(copy, head, {
      value: setAt(copy[head], rest, value, del),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return copy;
}

export function getAt(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | null)?.[k], root);
}
