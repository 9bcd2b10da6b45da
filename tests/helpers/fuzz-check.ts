import fc from 'fast-check';
import superjson from 'superjson';
import type { App } from '../../server/app';
import { boundaryCases, hostileInputs, type FuzzCase } from './fuzz-input';
import { RawTrpcSocket, type ServerMessage } from './raw-ws';
import { rowCounts, rowChanges, type RowCounts } from './row-counts';
import { LEAKS, type WalkedProcedure } from './router-walk';

// The checker behind tests/integration/fuzz.test.ts: sends one procedure hostile inputs over
// HTTP and over a signed-in WebSocket and reports every answer that is not a clean refusal.
// It returns findings instead of failing, so fuzz-detects.test.ts can show it catches a broken
// procedure.

export interface FuzzTarget {
  app: App;
  url: string;
  /** A signed-in administrator's bearer token, so admin-only procedures reach their input check. */
  token: string;
  /** Cases per procedure and transport. */
  runs: number;
  seed: number;
}

export interface Finding {
  path: string;
  transport: 'http' | 'ws';
  what: string;
  problem: string;
  /** How to run exactly this again. */
  replay: string;
}

export interface FuzzTally {
  /** Cases the procedure's own schema refuses: each must be a clean client error, with no row changed. */
  refused: number;
  /** Cases the schema accepts (hostile text it allows, say): they may run, but never as a 500 or a leak. */
  accepted: number;
  codes: Record<string, number>;
}

/** What a client may be told for input it should not have sent. */
const REFUSALS = new Set([
  'BAD_REQUEST',
  'PARSE_ERROR',
  'PAYLOAD_TOO_LARGE',
  'TOO_MANY_REQUESTS',
  'METHOD_NOT_SUPPORTED',
  'UNPROCESSABLE_CONTENT',
]);
// Node's HTTP parser refuses longer request lines before tRPC sees them.
const MAX_GET_URL = 16_000;

interface Answer {
  /** tRPC's code (data.code) of an error answer; null for a success. */
  code: string | null;
  message: string;
  raw: string;
  status?: number;
  /** The transport failed (connection refused, reset, no answer). */
  broken?: string;
  skipped?: string;
}

/** The value the procedure's parser would see, or `refused` when decoding alone fails. */
async function schemaRefuses(p: WalkedProcedure, envelope: unknown): Promise<boolean> {
  let decoded: unknown;
  if (envelope !== undefined) {
    if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope) || !('json' in envelope))
      return true;
    if (Object.keys(envelope).some((k) => k !== 'json' && k !== 'meta')) return true;
    try {
      decoded = 'meta' in envelope ? superjson.deserialize(envelope as never) : envelope.json;
    } catch {
      return true;
    }
  }
  try {
    return !(await p.parser!.safeParseAsync(decoded)).success;
  } catch {
    // A schema that throws instead of reporting is refused too (as BAD_REQUEST by tRPC).
    return true;
  }
}

function errorOf(body: unknown): { code: string | null; message: string } | null {
  const e = (body as { error?: { json?: unknown } } | null)?.error;
  if (!e) return null;
  const shape = (e.json ?? e) as { message?: unknown; data?: { code?: unknown } };
  return {
    code: typeof shape.data?.code === 'string' ? shape.data.code : 'UNKNOWN',
    message: typeof shape.message === 'string' ? shape.message : '',
  };
}

async function overHttp(t: FuzzTarget, p: WalkedProcedure, c: FuzzCase): Promise<Answer> {
  const input = c.envelope === undefined ? '' : JSON.stringify(c.envelope);
  const get = p.type !== 'mutation';
  const url = `${t.url}/trpc/${p.path}${get && input ? `?input=${encodeURIComponent(input)}` : ''}`;
  if (get && url.length > MAX_GET_URL)
    return { code: null, message: '', raw: '', skipped: 'URL too long for GET: covered over the WebSocket' };
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 30_000);
  try {
    const res = await fetch(url, {
      method: get ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', Authorization: `Bearer ${t.token}` },
      body: get ? undefined : input,
      signal: ac.signal,
    });
    let raw = '';
    if (p.type === 'subscription' && res.headers.get('content-type')?.includes('text/event-stream')) {
      // A stream's first frames say whether it started or was refused; a healthy one never ends.
      const reader = res.body!.getReader();
      while (!/event: (serialized-error|return)|data: /.test(raw)) {
        const { value, done } = await reader.read();
        if (done) break;
        raw += new TextDecoder().decode(value);
      }
      const data = /event: serialized-error\ndata: (.*)/.exec(raw)?.[1];
      const err = data ? errorOf({ error: JSON.parse(data) as unknown }) : null;
      return { status: res.status, raw, code: err?.code ?? null, message: err?.message ?? '' };
    }
    raw = await res.text();
    let body: unknown = null;
    try {
      body = JSON.parse(raw);
    } catch {
      return { status: res.status, raw, code: res.ok ? null : `HTTP ${res.status}`, message: raw };
    }
    const err = errorOf(body);
    return { status: res.status, raw, code: err?.code ?? null, message: err?.message ?? '' };
  } catch (err) {
    return { code: null, message: '', raw: '', broken: (err as Error).message };
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

/** One signed-in WebSocket per target, reopened if a case got it closed. */
const sockets = new WeakMap<FuzzTarget, RawTrpcSocket>();
let nextId = 1;

async function overWs(t: FuzzTarget, p: WalkedProcedure, c: FuzzCase): Promise<Answer> {
  let socket = sockets.get(t);
  if (!socket || socket.closeCode !== null) sockets.set(t, (socket = await RawTrpcSocket.open(t.url, t.token)));
  const s = socket;
  const id = nextId++;
  const answer = new Promise<Exclude<ServerMessage, 'PING'> | string>((resolve) => {
    const timer = setTimeout(() => done('no answer within 30 s'), 30_000);
    const onMessage = (data: Buffer) => {
      const text = data.toString();
      if (text === 'PING') return void s.ws.send('PONG');
      const m = JSON.parse(text) as Exclude<ServerMessage, 'PING'>;
      if (m.id === id) done(m);
    };
    const onClose = (code: number, reason: Buffer) => done(`socket closed (${code} ${reason.toString()})`);
    function done(v: Exclude<ServerMessage, 'PING'> | string) {
      clearTimeout(timer);
      s.ws.off('message', onMessage);
      s.ws.off('close', onClose);
      resolve(v);
    }
    s.ws.on('message', onMessage);
    s.ws.on('close', onClose);
  });
  s.send({ id, method: p.type, params: { path: p.path, ...(c.envelope === undefined ? {} : { input: c.envelope }) } });
  const m = await answer;
  if (typeof m === 'string') return { code: null, message: '', raw: m, broken: m };
  const raw = JSON.stringify(m);
  // A subscription that started was accepted: stop it, it has nothing to tell this test.
  if (m.result?.type === 'started') s.send({ id, method: 'subscription.stop' });
  const err = m.error ? errorOf({ error: m.error }) : null;
  return { code: err?.code ?? null, message: err?.message ?? '', raw };
}

/** Problems with one answer; none for a clean one. */
export function judge(answer: Answer, refused: boolean, token: string): string[] {
  if (answer.skipped) return [];
  if (answer.broken) return [`the transport failed: ${answer.broken}`];
  const problems: string[] = [];
  // An upstream that is down is a typed answer (SERVICE_UNAVAILABLE, BAD_GATEWAY …) for input
  // that was accepted; a crash is INTERNAL_SERVER_ERROR, or a 5xx that is not tRPC's at all.
  const untyped = (answer.status ?? 0) >= 500 && (answer.code === null || answer.code.startsWith('HTTP '));
  if (answer.code === 'INTERNAL_SERVER_ERROR' || untyped)
    problems.push(`answered ${answer.code ?? ''} ${answer.status ?? ''}`.trim());
  for (const leak of LEAKS)
    if (leak.test(answer.raw)) problems.push(`the answer leaks ${leak}: ${answer.raw.slice(0, 200)}`);
  if (answer.raw.includes(token)) problems.push('the answer carries the session token');
  if (refused && (answer.code === null || !REFUSALS.has(answer.code)))
    problems.push(`input its schema refuses was not refused: ${answer.code ?? 'success'}`);
  if (answer.code !== null) {
    const m = answer.message.trim();
    const readable = m.length >= 3 && m.length <= 1000 && /[a-z]{2,}/i.test(m) && m !== answer.code && !/^[[{]/.test(m);
    if (!readable) problems.push(`the error message is not a sentence: ${JSON.stringify(m.slice(0, 200))}`);
    // A person reads it: fields are named in words ("Take profit"), never by their key (takeProfitPct).
    const key = INTERNAL_NAME.exec(m.replace(/https?:\/\/\S+/g, ''));
    if (key)
      problems.push(`the error message names a field by its key "${key[0]}": ${JSON.stringify(m.slice(0, 200))}`);
  }
  return problems;
}

/** camelCase or a leading "key: ", as tRPC's and zod's defaults put them. */
const INTERNAL_NAME = /\b[a-z]+[A-Z][A-Za-z]*\b|^[a-z][\w.]*: /;

async function runCase(
  t: FuzzTarget,
  p: WalkedProcedure,
  transport: 'http' | 'ws',
  c: FuzzCase,
  tally: FuzzTally,
): Promise<string[]> {
  const refused = await schemaRefuses(p, c.envelope);
  const before = refused ? await rowCounts(t.app) : null;
  const answer = transport === 'http' ? await overHttp(t, p, c) : await overWs(t, p, c);
  tally[refused ? 'refused' : 'accepted']++;
  const key = answer.skipped ? 'skipped' : (answer.code ?? 'ok');
  tally.codes[key] = (tally.codes[key] ?? 0) + 1;
  const problems = judge(answer, refused, t.token);
  if (process.env.FUZZ_DEBUG && p.path === process.env.FUZZ_DEBUG)
    console.log(transport, refused, c.what, answer.code, answer.raw.slice(0, 150));
  if (before && rowChanges(before, await rowCounts(t.app)).length) {
    // An earlier accepted case may have started work that writes later (a discovery scan):
    // once the counts stop moving, the same refused case must change nothing.
    const quiet = await settled(t.app);
    const again = transport === 'http' ? await overHttp(t, p, c) : await overWs(t, p, c);
    problems.push(...judge(again, refused, t.token), ...rowChanges(quiet, await rowCounts(t.app)));
  }
  return problems;
}

/**
 * Row counts once they have held still for 2.5 s (at most 20 s): longer than the fake exchange's
 * pause between forming updates, on each of which an alert an earlier case created may fire.
 */
async function settled(app: App): Promise<RowCounts> {
  let last = await rowCounts(app);
  let stableSince = Date.now();
  const deadline = Date.now() + 20_000;
  while (Date.now() - stableSince < 2_500 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    const now = await rowCounts(app);
    if (rowChanges(last, now).length) stableSince = Date.now();
    last = now;
  }
  return last;
}

async function boundaryFinding(
  t: FuzzTarget,
  p: WalkedProcedure,
  transport: 'http' | 'ws',
  cases: FuzzCase[],
  tally: FuzzTally,
): Promise<Finding | null> {
  for (const c of cases) {
    const problems = await runCase(t, p, transport, c, tally);
    if (problems.length)
      return {
        path: p.path,
        transport,
        what: c.what,
        problem: problems.join('; '),
        replay: `any FUZZ_SEED (boundary case "${c.what}" is sent every run)`,
      };
  }
  return null;
}

/** Fuzzes one procedure over both transports; an empty list of findings means every answer was clean. */
export async function fuzzProcedure(
  t: FuzzTarget,
  p: WalkedProcedure,
): Promise<{ findings: Finding[]; tally: FuzzTally }> {
  const tally: FuzzTally = { refused: 0, accepted: 0, codes: {} };
  if (p.problem && !p.parser)
    return {
      tally,
      findings: [{ path: p.path, transport: 'http', what: 'its input', problem: p.problem, replay: '' }],
    };
  if (!p.schema) return { tally, findings: [] };
  const schema = p.schema;
  const findings: Finding[] = [];
  for (const transport of ['http', 'ws'] as const) {
    // First the seed-independent boundary cases (every run sends them); the first problem is the finding.
    const boundary = await boundaryFinding(t, p, transport, boundaryCases(schema), tally);
    if (boundary) {
      findings.push(boundary);
      continue;
    }
    let problems: string[] = [];
    const details = await fc.check(
      fc.asyncProperty(hostileInputs(schema), async (c) => {
        problems = await runCase(t, p, transport, c, tally);
        return problems.length === 0;
      }),
      // Each case is a real request: stop at the first finding rather than shrink it.
      { seed: t.seed, numRuns: t.runs, endOnFailure: true },
    );
    if (details.failed) {
      const c = details.counterexample?.[0];
      // fast-check wraps a `false` in an error of its own: the problems found say more.
      const problem = problems.length ? problems.join('; ') : `threw ${String(details.errorInstance)}`;
      findings.push({
        path: p.path,
        transport,
        what: c?.what ?? '?',
        problem,
        replay: `FUZZ_SEED=${details.seed} (fast-check path ${details.counterexamplePath ?? '?'})`,
      });
    }
  }
  return { findings, tally };
}

export const describeFindings = (findings: Finding[]) =>
  findings
    .map((f) => `${f.path} over ${f.transport}: ${f.problem}\n  input: ${f.what}\n  replay: ${f.replay}`)
    .join('\n');
