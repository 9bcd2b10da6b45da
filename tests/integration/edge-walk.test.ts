import type { AnyProcedure } from '@trpc/server';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { appRouter } from '../../server/router';
import { createTestApp, startTestServer } from '../helpers/app';
import { httpClient } from '../helpers/clients';
import { capturedLog } from '../helpers/log';

// Every procedure of the router, attacked over HTTP the way issue 7 did by hand: NUL bytes in
// every string field, a malformed session cookie, malformed superjson, a 10 MB body. No answer
// may be a 500 or carry SQL, a password hash or a session token; neither may the log.

const logs = capturedLog('debug');
const app = await createTestApp({}, { log: logs.log });
const server = await startTestServer(app);
const admin = await httpClient(server.url).auth.signUp.mutate({ email: 'walker@example.com', password: 'walk the router', name: 'Walker' });
const second = await httpClient(server.url).auth.signUp.mutate({ email: 'walker2@example.com', password: 'walk the router', name: 'Walker Two' });
const TOKENS = [admin.token, second.token];
const LEAKS = [/select /i, /insert into/i, /update "/i, /delete from/i, /scrypt\$/, /Failed query:/, /params:/, /\n\s+at /];

type JsonSchema = z.core.JSONSchema._JSONSchema;

const SAMPLES: Record<string, string> = {
  email: 'walker-sample@example.com',
  password: 'long enough password',
  symbol: 'BTCUSDT',
  chain: 'solana',
  profileUrl: `https://dexscreener.com/solana/${'A'.repeat(32)}`,
  lastEventId: '1',
};

/**
 * A valid-looking value of the schema's shape, except the string at `nulAt`, which gets a NUL
 * byte; every string's path is collected in `paths`. One NUL at a time, so that field's own
 * check (not a neighbour's) is what must refuse it.
 */
function build(schema: JsonSchema, path: string, nulAt: string | null, paths: string[]): unknown {
  if (typeof schema === 'boolean') return null;
  const options = schema.anyOf ?? schema.oneOf;
  if (options) return build(options.find((o) => typeof o !== 'boolean' && o.type !== 'null') ?? options[0]!, path, nulAt, paths);
  if (schema.const !== undefined) return schema.const;
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  const key = path.split('.').at(-1) ?? '';
  switch (type) {
    case 'string': {
      paths.push(path);
      const sample = String(schema.enum?.[0] ?? SAMPLES[key] ?? 'Sample');
      return path === nulAt ? `${sample.slice(0, 1)}\u0000${sample.slice(1)}` : sample;
    }
    case 'number':
    case 'integer':
      return schema.default ?? schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return [build(Array.isArray(schema.items) ? (schema.items[0] ?? {}) : (schema.items ?? {}), `${path}.0`, nulAt, paths)];
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, build(v, path ? `${path}.${k}` : k, nulAt, paths)]));
    default:
      return schema.enum?.[0] ?? null;
  }
}

const isProcedure = (v: unknown): v is AnyProcedure => typeof v === 'function' && '_def' in v && typeof v._def === 'object' && v._def !== null && 'procedure' in v._def;

/** [path, procedure] for every procedure, nested routers included. */
function listProcedures(record: object, prefix = ''): [string, AnyProcedure][] {
  return Object.entries(record).flatMap(([key, value]: [string, unknown]) => {
    const path = prefix + key;
    if (isProcedure(value)) return [[path, value] as [string, AnyProcedure]];
    return typeof value === 'object' && value !== null ? listProcedures(value, `${path}.`) : [];
  });
}

const procedures = listProcedures(appRouter._def.record)
  // Signing out would end the walker's session halfway: it goes last.
  .sort(([a], [b]) => Number(a === 'auth.signOut') - Number(b === 'auth.signOut'));

/** One input per string field, each with a NUL byte in that field only. */
function nulInputs(procedure: AnyProcedure): { field: string; input: unknown }[] {
  const parser: unknown = procedure._def.inputs[0];
  if (!(parser instanceof z.ZodType)) return [];
  const schema: JsonSchema = z.toJSONSchema(parser, { io: 'input', unrepresentable: 'any' });
  const paths: string[] = [];
  build(schema, '', null, paths);
  return paths.map((field) => ({ field, input: build(schema, '', field, []) }));
}

interface Answer {
  status: number;
  text: string;
}

const open = new Set<AbortController>();
afterAll(() => {
  for (const ac of open) ac.abort();
});

/** One call; a subscription's event stream is read until its first event, then closed. */
async function call(path: string, type: string, opts: { body?: string; query?: string; headers?: Record<string, string> }): Promise<Answer> {
  const ac = new AbortController();
  open.add(ac);
  try {
    const url = `${server.url}/trpc/${path}${opts.query !== undefined ? `?input=${encodeURIComponent(opts.query)}` : ''}`;
    const res = await fetch(url, {
      method: opts.body !== undefined ? 'POST' : 'GET',
      headers: { 'content-type': 'application/json', Origin: server.url, ...opts.headers },
      body: opts.body,
      signal: ac.signal,
    });
    if (type === 'subscription' && res.headers.get('content-type')?.includes('text/event-stream')) {
      const reader = res.body!.getReader();
      let text = '';
      // The first frames say whether the stream started or failed; a healthy stream never ends.
      while (!/event: (serialized-error|return)|data: /.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      return { status: res.status, text };
    }
    return { status: res.status, text: await res.text() };
  } catch (err) {
    // The server may stop reading a 10 MB body and close: that is a refusal, not a 500.
    return { status: 0, text: String((err as Error).message) };
  } finally {
    ac.abort();
    open.delete(ac);
  }
}

function expectClean(what: string, answer: Answer) {
  expect(answer.status, `${what}: ${answer.text.slice(0, 300)}`).not.toBe(500);
  for (const leak of LEAKS) expect(answer.text, what).not.toMatch(leak);
  for (const token of TOKENS) expect(answer.text, what).not.toContain(token);
}

const bearer = { Authorization: `Bearer ${admin.token}` };
const MALFORMED = [
  'null',
  '"text"',
  '{"json":{"a":{}},"meta":{"referentialEqualities":{"a":["a.b"]}}}',
  '{"json":{"a":{}},"meta":{"values":{"a":["map"]}}}',
  `{"json":{},"meta":{"values":${'{"a":'.repeat(3000)}["Date"]${'}'.repeat(3000)}}}`,
  '{"json":',
];
const HUGE = JSON.stringify({ json: { text: 'x'.repeat(10 * 1024 * 1024) } });

describe('every procedure over HTTP with bad input', () => {
  it('has procedures to walk', () => {
    expect(procedures.length).toBeGreaterThan(20);
  });

  for (const [path, procedure] of procedures) {
    const type = procedure._def.type;
    const send = (input: unknown, headers: Record<string, string>) =>
      type === 'mutation' ? call(path, type, { body: JSON.stringify({ json: input }), headers }) : call(path, type, { query: JSON.stringify({ json: input }), headers });

    it(`${path} (${type})`, { timeout: 60_000 }, async () => {
      const variants = nulInputs(procedure);
      for (const { field, input } of variants) {
        const answer = await send(input, bearer);
        expectClean(`${path} NUL in ${field}`, answer);
        // Subscriptions are refused over HTTP whatever the input (an error event in the SSE stream).
        if (type === 'subscription') expect(answer.text, `${path} NUL in ${field}`).toContain('"code":"METHOD_NOT_SUPPORTED"');
        else expect(answer.status, `${path} NUL in ${field}: ${answer.text.slice(0, 200)}`).toBe(400);
      }
      // Without strings a procedure would simply run (autoStart, signOut): it gets no input here.
      expectClean(`${path} cookie`, await send(variants[0]?.input, { Cookie: 'hubcast_session=%E0%A4%A' }));
      for (const body of MALFORMED) {
        const answer = type === 'mutation' ? await call(path, type, { body, headers: bearer }) : await call(path, type, { query: body, headers: bearer });
        expectClean(`${path} superjson ${body.slice(0, 40)}`, answer);
      }
      expectClean(`${path} 10 MB`, await call(path, type, { body: HUGE, headers: bearer }));
    });
  }

  it('left nothing in the log that an answer may not carry either', () => {
    const text = logs.text();
    for (const leak of LEAKS.slice(0, 7)) expect(text).not.toMatch(leak);
    for (const token of TOKENS) expect(text).not.toContain(token);
  });
});
