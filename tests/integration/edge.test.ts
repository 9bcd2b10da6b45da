import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config';
import { GENERIC_ERROR_MESSAGE } from '../../server/errors';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { afterThis } from '../helpers/cleanup';
import { httpClient, wsClient } from '../helpers/clients';
import { clientError, rejection } from '../helpers/errors';
import { capturedLog } from '../helpers/log';
import { startFakeBinance } from '../helpers/market';

const logs = capturedLog();
// Strategies are checked against the exchange's symbol list, which the fake serves.
const binance = await startFakeBinance();
const app = await createTestApp(binance.env, { log: logs.log });
const server = await startTestServer(app);
const first = await httpClient(server.url).auth.signUp.mutate({
  email: 'edge-admin@example.com',
  password: 'long enough',
  name: 'Edge Admin',
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}/trpc/${path}`, { headers });

const LEAKS = [/select /i, /insert into/i, /scrypt\$/, /Failed query:/, /params:/];
const expectClean = (text: string) => {
  for (const leak of LEAKS) expect(text).not.toMatch(leak);
};

describe('unexpected errors', () => {
  it('answer INTERNAL_SERVER_ERROR with a generic message and a request id; the log has the id, not the SQL or the hash', async () => {
    // A constraint the service does not know about: the insert fails with the user's scrypt
    // hash among the statement's parameters, as the NUL byte used to make it fail.
    await app.db.execute(sql`alter table users add constraint edge_test_no_zed check (name <> 'Zed Broken')`);
    const res = await post(
      'auth.signUp',
      JSON.stringify({ json: { email: 'zed@example.com', password: 'long enough', name: 'Zed Broken' } }),
      { Origin: server.url },
    );
    const text = await res.text();
    expect(res.status).toBe(500);
    const { error } = JSON.parse(text) as {
      error: { json: { message: string; data: { code: string; requestId: string } } };
    };
    expect(error.json.message).toBe(GENERIC_ERROR_MESSAGE);
    expect(error.json.data.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error.json.data.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expectClean(text);
    const line = logs.lines.find((l) => l.includes(error.json.data.requestId));
    expect(line).toBeDefined();
    expect(line).toContain('edge_test_no_zed');
    expectClean(logs.text());
  });
});

type ErrorBody = {
  error: {
    json: {
      message: string;
      data: { code: string; httpStatus: number; stack?: string | null; requestId: string | null };
    };
  };
};

describe("a service's AppError", () => {
  it('reaches an HTTP client with its code, its HTTP status and its message, and nothing of its cause', async () => {
    const wrong = await post(
      'auth.signIn',
      JSON.stringify({ json: { email: 'edge-admin@example.com', password: 'not the password' } }),
      { Origin: server.url },
    );
    expect(wrong.status).toBe(401);
    const body = (await wrong.json()) as ErrorBody;
    expect(body.error.json).toMatchObject({
      message: 'Wrong e-mail or password.',
      data: { code: 'UNAUTHORIZED', httpStatus: 401, requestId: null },
    });
    expect(body.error.json.data.stack ?? null).toBeNull();

    // The AppError wraps the upstream failure as its cause: the log may read it, the client never does.
    // The symbol list is loaded first, so the klines call is the one that fails.
    await app.market.symbols.check('ETHUSDT');
    binance.faultRest({ kind: 'down' });
    afterThis(() => binance.faultRest(null));
    const res = await get(
      `market.candles?input=${encodeURIComponent(JSON.stringify({ json: { symbol: 'ETHUSDT', timeframe: '1h', limit: 10 } }))}`,
      { Authorization: `Bearer ${first.token}` },
    );
    const text = await res.text();
    expect(res.status).toBe(503);
    expect((JSON.parse(text) as ErrorBody).error.json).toMatchObject({
      message: 'The exchange did not answer: try again in a moment.',
      data: { code: 'SERVICE_UNAVAILABLE' },
    });
    expect(text).not.toMatch(/Binance error|503 Service Temporarily/);
  });

  it('reaches a WebSocket client alike', async () => {
    const { client } = wsClient(server.url, first.token);
    const err = await clientError(client.discovery.scanTokens.query({ scanId: 987_654 }));
    expect(err.message).toBe('There is no scan 987654.');
    expect(err.data).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });
  });
});

describe('requests the edge refuses', () => {
  it('treats a malformed session cookie as no session', async () => {
    const cookie = { Cookie: 'hubcast_session=%E0%A4%A' };
    expect((await get('system.health', cookie)).status).toBe(200);
    const me = await get('auth.me', cookie);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ result: { data: { json: null } } });
  });

  it('refuses a cookie mutation sent with Origin: null', async () => {
    const cookie = `hubcast_session=${first.token}`;
    const res = await post('auth.signOut', JSON.stringify({}), { Cookie: cookie, Origin: 'null' });
    expect(res.status).toBe(403);
    expect(await httpClient(server.url, first.token).auth.me.query()).not.toBeNull();
  });

  it('answers a 10 MB body with 413 PAYLOAD_TOO_LARGE and an over-long batch with BAD_REQUEST', async () => {
    const big = JSON.stringify({
      json: { email: 'a@example.com', password: 'x'.repeat(10 * 1024 * 1024), name: 'Big' },
    });
    const res = await post('auth.signUp', big, { Origin: server.url });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({
      error: { json: { data: { code: 'PAYLOAD_TOO_LARGE' }, message: 'Request too large: send less at once.' } },
    });
    const paths = Array.from({ length: 51 }, () => 'system.health').join(',');
    const batch = await get(`${paths}?batch=1&input=${encodeURIComponent('{}')}`);
    expect(batch.status).toBe(400);
  });

  it('answers malformed superjson with BAD_REQUEST "malformed request body", never a stack overflow', async () => {
    const deep = `{"json":{},"meta":{"values":${'{"a":'.repeat(5000)}["Date"]${'}'.repeat(5000)}}}`;
    const bodies = [
      'null',
      '[]',
      '{"email":"a@example.com"}',
      '{"json":{"email":{}},"meta":{"referentialEqualities":{"email":["email.x"]}}}',
      '{"json":{"email":{}},"meta":{"values":{"email":["map"]}}}',
      '{"json":{},"meta":{"values":{"__proto__":["Date"]}}}',
      deep,
    ];
    for (const body of bodies) {
      const res = await post('auth.signIn', body, { Origin: server.url });
      const text = await res.text();
      expect(res.status, body.slice(0, 80)).toBe(400);
      expect(JSON.parse(text)).toMatchObject({
        error: { json: { message: 'malformed request body', data: { code: 'BAD_REQUEST' } } },
      });
    }
  });
});

describe('limits on what a user may create', () => {
  it('keeps at most 100 strategies per user, even from concurrent calls, and pages through them', async () => {
    const { caller, token } = await signUp(app);
    const input = (i: number) => ({
      name: `S${i}`,
      symbol: 'BTCUSDT',
      timeframe: '1m' as const,
      rule: { type: 'ema_cross' as const },
      positionSize: 10,
      takeProfitPct: 1,
      stopLossPct: 1,
    });
    // 18 defaults + 90 attempted at once: exactly 82 fit.
    const results = await Promise.allSettled(
      Array.from({ length: 90 }, (_, i) => caller.market.strategies.create(input(i))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(82);
    const refused = await rejection(caller.market.strategies.create(input(999)));
    expect(refused.code).toBe('CONFLICT');
    expect(refused.message).toBe(
      'You have 100 strategies, the most one account may keep: delete one before adding another.',
    );
    // Over HTTP the domain error keeps its code and message.
    const overHttp = await httpClient(server.url, token)
      .market.strategies.create.mutate(input(1000))
      .catch((e: { data?: { code?: string }; message: string }) => e);
    expect(overHttp).toMatchObject({ data: { code: 'CONFLICT' }, message: refused.message });

    const ids: number[] = [];
    let cursor: number | null = null;
    do {
      const page: { items: { id: number }[]; nextCursor: number | null } = await caller.market.strategies.list({
        cursor,
        limit: 30,
      });
      expect(page.items.length).toBeLessThanOrEqual(30);
      ids.push(...page.items.map((s) => s.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(ids).toHaveLength(100);
    expect(new Set(ids).size).toBe(100);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });
});

describe('configuration errors', () => {
  it('name the variable and the rule, never the value', () => {
    const err = (() => {
      try {
        loadConfig({
          DATABASE_URL: 'postgress://hubcast:s3cr3t-pa55w0rd@db.internal:5432/hubcast',
          METRICS_TOKEN: 'tooshort-secret',
        });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as ConfigError).message;
    expect(message).toContain('DATABASE_URL: must start with postgres:// or postgresql://');
    expect(message).toContain('METRICS_TOKEN: must be at least 16 characters');
    expect(message).not.toContain('s3cr3t');
    expect(message).not.toContain('tooshort');
  });
});

describe('subscriptions over HTTP', () => {
  it('are served as server-sent events (tests/integration/sse.test.ts has the rest)', async () => {
    const ac = new AbortController();
    const res = await fetch(`${server.url}/trpc/system.notifications`, {
      headers: { Authorization: `Bearer ${first.token}` },
      signal: ac.signal,
    });
    try {
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      // An open stream never ends: read up to its first event, the resume point.
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('resume_point')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(text).toContain('resume_point');
    } finally {
      ac.abort();
    }
  });
});
