import { afterAll, describe, expect, it } from 'vitest';
import { appRouter } from '../../server/router';
import { createTestApp, startTestServer } from '../helpers/app';
import { httpClient } from '../helpers/clients';
import { capturedLog } from '../helpers/log';
import { LEAKS, getAt, sample, setAt, typeOf, walkRouter, type WalkedProcedure } from '../helpers/router-walk';

// Every procedure of the router, attacked over HTTP the way issue 7 did by hand: NUL bytes in
// every string field, a malformed session cookie, malformed superjson, a 10 MB body. No answer
// may be a 500 or carry SQL, a password hash or a session token; neither may the log.

const logs = capturedLog('debug');
const app = await createTestApp({}, { log: logs.log });
const server = await startTestServer(app);
const admin = await httpClient(server.url).auth.signUp.mutate({
  email: 'walker@example.com',
  password: 'walk the router',
  name: 'Walker',
});
const second = await httpClient(server.url).auth.signUp.mutate({
  email: 'walker2@example.com',
  password: 'walk the router',
  name: 'Walker Two',
});
const TOKENS = [admin.token, second.token];

const procedures = walkRouter(appRouter)
  // Signing out would end the walker's session halfway: those go last.
  .sort((a, b) => Number(a.path.startsWith('auth.signOut')) - Number(b.path.startsWith('auth.signOut')));

/**
 * One valid-looking input per string field, with a NUL byte in that field only, so that
 * field's own check (not a neighbour's) is what must refuse it.
 */
function nulInputs({ schema }: WalkedProcedure): { field: string; input: unknown }[] {
  if (!schema) return [];
  const { value, slots } = sample(schema);
  return slots
    .filter((slot) => typeOf(slot.schema) === 'string' && slot.schema.const === undefined)
    .map(({ path }) => {
      const text = String(getAt(value, path));
      return { field: path.join('.'), input: setAt(value, path, `${text.slice(0, 1)}\u0000${text.slice(1)}`) };
    });
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
async function call(
  path: string,
  type: string,
  opts: { body?: string; query?: string; headers?: Record<string, string> },
): Promise<Answer> {
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

  for (const procedure of procedures) {
    const { path, type } = procedure;
    const send = (input: unknown, headers: Record<string, string>) =>
      type === 'mutation'
        ? call(path, type, { body: JSON.stringify({ json: input }), headers })
        : call(path, type, { query: JSON.stringify({ json: input }), headers });

    it(`${path} (${type})`, { timeout: 60_000 }, async () => {
      const variants = nulInputs(procedure);
      for (const { field, input } of variants) {
        const answer = await send(input, bearer);
        expectClean(`${path} NUL in ${field}`, answer);
        // A subscription refuses it in its event stream (an error event; the HTTP status is 200).
        if (type === 'subscription') expect(answer.text, `${path} NUL in ${field}`).toContain('"code":"BAD_REQUEST"');
        else expect(answer.status, `${path} NUL in ${field}: ${answer.text.slice(0, 200)}`).toBe(400);
      }
      // Without strings a procedure would simply run (autoStart, signOut): it gets no input here.
      expectClean(`${path} cookie`, await send(variants[0]?.input, { Cookie: 'hubcast_session=%E0%A4%A' }));
      for (const body of MALFORMED) {
        const answer =
          type === 'mutation'
            ? await call(path, type, { body, headers: bearer })
            : await call(path, type, { query: body, headers: bearer });
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
