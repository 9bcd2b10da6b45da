import fc from 'fast-check';
import { sample, setAt, typeOf, type JsonSchema, type Path, type Slot } from './router-walk';

// Hostile inputs generated from a procedure's input schema: a valid-looking sample with one to
// three positions attacked (wrong type, bad string, bad number, missing, extra, deep nesting),
// sometimes wrapped in a malformed superjson envelope. What a case did is said in `what`.

export interface FuzzCase {
  what: string;
  /** The superjson envelope as sent ({ json, meta? } or something malformed); undefined = no input at all. */
  envelope: unknown;
}

interface Change {
  note: string;
  apply(state: { json: unknown; values: Record<string, unknown> }): void;
}

const show = (v: unknown) => {
  const text =
    typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…(${v.length})` : v) : JSON.stringify(v);
  return (text ?? String(v)).slice(0, 60);
};
const where = (path: Path) => path.join('.') || '(input)';
const set = (path: Path, value: unknown, what: string): Change => ({
  note: `${where(path)}: ${what} ${show(value)}`,
  apply: (s) => void (s.json = setAt(s.json, path, value)),
});

const CONTROLS = [...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)), '\u007f'];
const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff'];
const HOSTILE_TEXT = [
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  '../../etc/passwd',
  '%00',
  '\u202e',
  '${process}',
  '<script>',
  '\ufeff',
  'a\u0301\u0301\u0301',
];

// Page links and numbers sent as text, at and past every bound a query has: an instant after
// year 9999 (Postgres 22009 once, a 500), ids past the safe and the bigint range, signs, empty
// parts, exponents, digit runs longer than any column. A schema that lets one through must
// still refuse it in words, never let it reach the database as a 500.
export const BOUNDARY_STRINGS = [
  '253402300800000:1',
  '999999999999999:9999999999999999',
  '-1:1',
  '1:-1',
  '0:0',
  '9007199254740993:1',
  '1:9007199254740993',
  '1:9223372036854775808',
  ':',
  '1:',
  '-1',
  '9007199254740993',
  '1e309',
  '9'.repeat(400),
  `1:${'9'.repeat(400)}`,
];
/** Numbers at the edges of ids and columns: past the safe range, past bigint, huge, fractional, signed. */
export const BOUNDARY_NUMBERS = [0, -1, 1.5, 2 ** 53, 2 ** 63, 1e308];

/** n levels of arrays or objects around a string. */
const nested = (depth: number, kind: 'array' | 'object') => {
  let v: unknown = 'deep';
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
};

const wrongType = fc.constantFrom<unknown>(null, true, false, 0, -1, '', 'text', [], {}, [1, 'a'], { a: 1 });

function stringValues(s: Exclude<JsonSchema, boolean>): fc.Arbitrary<unknown> {
  const max = s.maxLength ?? 1000;
  return fc.oneof(
    fc.constantFrom('', '   ', '\t\n'),
    fc.integer({ min: 1, max: 64 }).map((n) => 'x'.repeat(max + n)),
    fc.constant('x'.repeat(200_000)),
    fc
      .tuple(fc.string({ maxLength: 6 }), fc.constantFrom(...CONTROLS), fc.string({ maxLength: 6 }))
      .map(([a, c, b]) => a + c + b),
    fc
      .tuple(fc.string({ maxLength: 6 }), fc.constantFrom(...LONE_SURROGATES), fc.string({ maxLength: 6 }))
      .map(([a, c, b]) => a + c + b),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }),
    fc.constantFrom(...HOSTILE_TEXT),
    fc.constantFrom(...BOUNDARY_STRINGS),
    ...(s.enum
      ? [fc.constantFrom(...s.enum.map((e) => String(e).toUpperCase()), ...s.enum.map((e) => ` ${String(e)}`))]
      : []),
  );
}

function numberValues(s: Exclude<JsonSchema, boolean>): fc.Arbitrary<unknown> {
  const edges = [s.minimum, s.maximum, s.exclusiveMinimum, s.exclusiveMaximum].filter(
    (n): n is number => typeof n === 'number',
  );
  return fc.oneof(
    fc.constantFrom(
      -1,
      0,
      -0,
      0.5,
      -0.5,
      1.5,
      1e308,
      -1e308,
      2 ** 53,
      2 ** 53 + 2,
      -(2 ** 53) - 2,
      5e-324,
      ...edges.flatMap((e) => [e - 1, e + 1, e + 0.5]),
    ),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)),
    fc.constantFrom('1', '0x10', '1e3', ' 1', ''),
  );
}

/** Values superjson alone can carry: NaN, ±Infinity, a bigint, a Date, a Set, a Map, a regexp. */
function superjsonValue(path: Path): fc.Arbitrary<Change> {
  const key = path.map(String).join('.');
  return fc
    .constantFrom<[unknown, unknown]>(
      ['NaN', ['number']],
      ['Infinity', ['number']],
      ['-Infinity', ['number']],
      ['123456789012345678901234567890', ['bigint']],
      ['not a date', ['Date']],
      ['2020-01-01T00:00:00.000Z', ['Date']],
      [[1, 2], ['set']],
      [[['a', 1]], ['map']],
      ['/a+/g', ['regexp']],
      ['x', ['symbol', 'x']],
      ['x', ['custom', 'nope']],
      [{}, ['class', 'Nope']],
    )
    .map(([json, type]) => ({
      note: `${where(path)}: superjson ${JSON.stringify(type)} ${show(json)}`,
      apply: (s) => {
        s.json = setAt(s.json, path, json);
        // superjson's meta addresses the root as [type] and anything else as { "a.b": [type] }.
        if (path.length) s.values[key] = type;
        else s.values[''] = type;
      },
    }));
}

function changesAt(slot: Slot): fc.Arbitrary<Change> {
  const { path, schema } = slot;
  const options: fc.Arbitrary<Change>[] = [
    wrongType.map((v) => set(path, v, 'wrong type')),
    fc
      .integer({ min: 50, max: 1500 })
      .chain((d) =>
        fc.constantFrom<'array' | 'object'>('array', 'object').map((k) => set(path, nested(d, k), `nested ${d} deep`)),
      ),
    superjsonValue(path),
  ];
  const type = typeOf(schema);
  if (type === 'string') options.push(stringValues(schema).map((v) => set(path, v, 'string')));
  if (type === 'number' || type === 'integer') options.push(numberValues(schema).map((v) => set(path, v, 'number')));
  if (type === 'array')
    options.push(
      fc.integer({ min: 1, max: 5 }).map((n) =>
        set(
          path,
          Array.from({ length: (schema.maxItems ?? 100) + n }, (_, i) => i + 1),
          'too many items',
        ),
      ),
    );
  if (path.length && typeof path.at(-1) === 'string')
    options.push(
      fc.constant({
        note: `${where(path)}: missing`,
        apply: (s) => void (s.json = setAt(s.json, path, undefined, true)),
      }),
    );
  return fc.oneof(...options);
}

/** An extra property on an object position: never enough on its own (zod strips unknown keys). */
function extraAt(slot: Slot): fc.Arbitrary<Change> {
  return fc
    .tuple(
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'extra', '0'),
      fc.oneof(wrongType, fc.constant({ polluted: true })),
    )
    .map(([key, v]) => set([...slot.path, key], v, 'extra field'));
}

/** Whole-envelope damage: not an envelope, stray keys, meta of the wrong shape or with cycles. */
const envelopeDamage: fc.Arbitrary<{ note: string; wrap(envelope: { json: unknown; meta?: unknown }): unknown }> =
  fc.constantFrom(
    { note: 'envelope is null', wrap: () => null },
    { note: 'envelope is a string', wrap: () => 'text' },
    { note: 'envelope is an array', wrap: (e: { json: unknown }) => [e.json] },
    { note: 'bare value, no envelope', wrap: (e: { json: unknown }) => e.json },
    { note: 'stray envelope key', wrap: (e: object) => ({ ...e, extra: 1 }) },
    { note: 'meta is a string', wrap: (e: { json: unknown }) => ({ json: e.json, meta: 'values' }) },
    {
      note: 'meta.values is an array',
      wrap: (e: { json: unknown }) => ({ json: e.json, meta: { values: [['Date']] } }),
    },
    {
      note: 'meta with a stray key',
      wrap: (e: { json: unknown }) => ({ json: e.json, meta: { values: {}, redirect: 1 } }),
    },
    {
      note: 'meta path through __proto__',
      wrap: (e: { json: unknown }) => ({ json: e.json, meta: { values: { '__proto__.polluted': ['Date'] } } }),
    },
    {
      note: 'meta path through constructor.prototype',
      wrap: (e: { json: unknown }) => ({
        json: e.json,
        meta: { values: { 'constructor.prototype.polluted': ['set'] } },
      }),
    },
    {
      note: 'referential cycle',
      wrap: (e: { json: unknown }) => ({ json: { a: {}, b: e.json }, meta: { referentialEqualities: { a: ['a.b'] } } }),
    },
    {
      note: 'referential equality to a missing path',
      wrap: (e: { json: unknown }) => ({ json: e.json, meta: { referentialEqualities: { 'no.such': ['path'] } } }),
    },
    {
      note: 'meta nested 1000 deep',
      wrap: (e: { json: unknown }) => ({
        json: e.json,
        meta: { values: JSON.parse(`${'{"a":'.repeat(1000)}["Date"]${'}'.repeat(1000)}`) as unknown },
      }),
    },
  );

/**
 * The boundary values, each at every string (not enum) and number position of a valid-looking
 * sample: sent every run, whatever the seed, so an unbounded cursor or id cannot slip past
 * a random draw that missed it.
 */
export function boundaryCases(schema: JsonSchema): FuzzCase[] {
  const { value, slots } = sample(schema);
  return slots.flatMap(({ path, schema: s }) => {
    const type = typeOf(s);
    const values: unknown[] =
      type === 'string' && !s.enum ? BOUNDARY_STRINGS : type === 'number' || type === 'integer' ? BOUNDARY_NUMBERS : [];
    return values.map((v) => ({
      what: `${where(path)}: boundary ${show(v)}`,
      envelope: { json: setAt(value, path, v) },
    }));
  });
}

/** Hostile inputs for one procedure's input schema. */
export function hostileInputs(schema: JsonSchema): fc.Arbitrary<FuzzCase> {
  const { value, slots } = sample(schema);
  const change = fc.oneof(...slots.map(changesAt));
  const objects = slots.filter((s) => typeOf(s.schema) === 'object');
  const companion = objects.length ? fc.oneof(change, ...objects.map(extraAt)) : change;
  return fc
    .record({
      first: change,
      more: fc.array(companion, { maxLength: 2 }),
      // Mostly well-formed envelopes, so the schema (not only the envelope check) is exercised.
      damage: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: envelopeDamage }),
      noInput: fc.oneof({ weight: 15, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    })
    .map(({ first, more, damage, noInput }) => {
      if (noInput && !damage) return { what: 'no input at all', envelope: undefined };
      const state = { json: value, values: {} as Record<string, unknown> };
      for (const c of [first, ...more]) c.apply(state);
      const root = state.values[''];
      const meta = root ? { values: root } : Object.keys(state.values).length ? { values: state.values } : undefined;
      const envelope = meta ? { json: state.json, meta } : { json: state.json };
      const notes = [first, ...more].map((c) => c.note);
      if (damage) return { what: [...notes, damage.note].join('; '), envelope: damage.wrap(envelope) };
      return { what: notes.join('; '), envelope };
    });
}
