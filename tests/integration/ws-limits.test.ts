import { describe, expect, it } from 'vitest';
import { CLOSE_TOO_MANY_CALLS, CLOSE_TOO_MANY_SUBSCRIPTIONS } from '../../server/transport/close-codes';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { until } from '../helpers/market';
import { RawTrpcSocket, type ServerMessage } from '../helpers/raw-ws';

const strict = await createTestApp({
  WS_MAX_CALLS_PER_SECOND: '5',
  WS_MAX_SUBSCRIPTIONS: '3',
  WS_MAX_PAYLOAD_BYTES: String(64 * 1024),
});
const strictServer = await startTestServer(strict);
const app = await createTestApp();
const server = await startTestServer(app);

const health = (id: number) => ({ id, method: 'query', params: { path: 'system.health' } });
type ErrorJson = { json: { message: string; data: { code: string; stack?: unknown } } };
const answer = (s: RawTrpcSocket, id: number | null) =>
  s.messages.find((m): m is Exclude<ServerMessage, 'PING'> => m !== 'PING' && m.id === id);

describe('WebSocket limits', () => {
  it('closes a connection that sends more calls per second than allowed, with a code and a reason', async () => {
    const s = await RawTrpcSocket.open(strictServer.url);
    s.send(Array.from({ length: 20 }, (_, i) => health(i + 1)));
    await until(() => s.closeCode !== null, 'the close');
    expect(s.closeCode).toBe(CLOSE_TOO_MANY_CALLS);
    expect(s.closeReason).toContain('calls per second');
  });

  it('closes a connection that opens more subscriptions than allowed', async () => {
    const { token } = await signUp(strict);
    const s = await RawTrpcSocket.open(strictServer.url, token);
    for (let id = 1; id <= 4; id++) s.subscribe(id, 'system.notifications', undefined);
    await until(() => s.closeCode !== null, 'the close');
    expect(s.closeCode).toBe(CLOSE_TOO_MANY_SUBSCRIPTIONS);
    expect(s.closeReason).toContain('open subscriptions');
  });

  it('refuses a frame over the size limit by closing that socket only', async () => {
    const s = await RawTrpcSocket.open(strictServer.url);
    s.send('x'.repeat(100 * 1024));
    await until(() => s.closeCode !== null, 'the close');
    expect(s.closeCode).toBe(1009);
    const other = await RawTrpcSocket.open(strictServer.url);
    other.send(health(1));
    await until(() => answer(other, 1), 'a normal answer');
    expect(answer(other, 1)?.result?.type).toBe('data');
  });
});

describe('malformed messages', () => {
  it('answers PARSE_ERROR (as tRPC does) to bad JSON, bad messages and bad superjson, each with its id when readable, and keeps serving', async () => {
    const s = await RawTrpcSocket.open(server.url);
    s.send('{not json');
    s.send({ id: 2, method: 'query', params: { path: 'system.health', input: 'no superjson here' } });
    // 60 bytes of meta that would build a cyclic input for validation to recurse through.
    s.send({
      id: 3,
      method: 'query',
      params: { path: 'system.health', input: { json: { a: {} }, meta: { referentialEqualities: { a: ['a.b'] } } } },
    });
    s.send({
      id: 4,
      method: 'query',
      params: { path: 'system.health', input: { json: 1, meta: { values: { '': ['custom', 'Nope'] } } } },
    });
    s.send({ id: 5, method: 'explode', params: {} });
    s.send(health(6));
    await until(() => answer(s, 6), 'the good call to be answered');
    for (const id of [null, 2, 3, 4, 5]) {
      const err = answer(s, id)?.error as ErrorJson | undefined;
      expect(err?.json.data.code, `answer to ${id}`).toBe('PARSE_ERROR');
      // Not JSON: the parser's own words, as tRPC answers; the rest say what was wrong.
      expect(err?.json.message).toMatch(id === null ? /JSON/ : /^malformed request/);
      expect(err?.json.data.stack ?? null).toBeNull();
    }
    expect(answer(s, 6)?.result?.type).toBe('data');
    expect(s.closeCode).toBeNull();
  });
});
