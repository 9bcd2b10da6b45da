import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { anonymousCaller, createTestApp, signUp, startTestServer } from '../helpers/app';
import { RawTrpcSocket, type ServerMessage } from '../helpers/raw-ws';
import { waitFor } from '../helpers/wait';
import { deliver } from '../helpers/inbox';

// Small caps so the edges are reached with a few sockets: 5 subscriptions per user, 3 per socket.
const app = await createTestApp({ WS_MAX_SUBSCRIPTIONS_PER_USER: '5', WS_MAX_SUBSCRIPTIONS: '3' });
const server = await startTestServer(app);
const narrow = await createTestApp({ WS_MAX_SOCKETS_PER_ADDRESS: '3' });
const narrowServer = await startTestServer(narrow);

type Reply = Exclude<ServerMessage, 'PING'>;
type ErrorJson = { json: { message: string; data: { code: string } } };
const replies = (s: RawTrpcSocket, id: number) => s.messages.filter((m): m is Reply => m !== 'PING' && m.id === id);
const started = (s: RawTrpcSocket, id: number) => replies(s, id).some((m) => m.result?.type === 'started');
const refusal = (s: RawTrpcSocket, id: number) =>
  replies(s, id)
    .map((m) => m.error as ErrorJson | undefined)
    .find(Boolean);
const settled = (s: RawTrpcSocket, id: number) => started(s, id) || refusal(s, id) !== undefined;
const subscription = (id: number) => ({ id, method: 'subscription', params: { path: 'system.notifications' } });

async function subscribeAll(s: RawTrpcSocket, ids: number[]) {
  // One frame: the subscriptions start concurrently, as a page opening several views does.
  s.send(ids.map(subscription));
  await waitFor(() => ids.every((id) => settled(s, id)), { what: `answers to subscriptions ${ids.join(', ')}` });
  return { started: ids.filter((id) => started(s, id)), refused: ids.filter((id) => refusal(s, id)) };
}

const notify = (userId: string, tag: string) =>
  deliver(app, [{ userId, feature: 'test', type: 'caps', payload: { tag } }]);
const gotTag = (s: RawTrpcSocket, id: number, tag: string) =>
  s.data(id).some((d) => JSON.stringify(d.data).includes(tag));

describe('per-user subscription cap', () => {
  it('is met exactly across sockets of one user; only the subscription past it is refused; another user is unaffected; freed slots are reused', async () => {
    const alice = await signUp(app);
    const bob = await signUp(app);
    const a1 = await RawTrpcSocket.open(server.url, alice.token);
    const a2 = await RawTrpcSocket.open(server.url, alice.token);

    expect((await subscribeAll(a1, [1, 2, 3])).started).toEqual([1, 2, 3]);
    // Two slots are left for the three that arrive together on the second socket.
    const second = await subscribeAll(a2, [1, 2, 3]);
    expect(second.started).toHaveLength(2);
    expect(second.refused).toHaveLength(1);
    const err = refusal(a2, second.refused[0]!)!;
    expect(err.json.data.code).toBe('TOO_MANY_REQUESTS');
    expect(err.json.message).toMatch(/^Too many open subscriptions for one account \(at most 5\)/);
    expect([a1.closeCode, a2.closeCode]).toEqual([null, null]);

    // The subscriptions within the cap keep delivering, on both sockets.
    await notify(alice.user.id, 'within-cap');
    await waitFor(
      () =>
        [1, 2, 3].every((id) => gotTag(a1, id, 'within-cap')) &&
        second.started.every((id) => gotTag(a2, id, 'within-cap')),
      { what: 'events on every started subscription' },
    );

    // Bob has his own count.
    const b1 = await RawTrpcSocket.open(server.url, bob.token);
    expect((await subscribeAll(b1, [1, 2, 3])).started).toEqual([1, 2, 3]);

    // Still full for Alice, on a third socket too.
    const a3 = await RawTrpcSocket.open(server.url, alice.token);
    expect((await subscribeAll(a3, [1])).refused).toEqual([1]);

    // A stopped subscription frees its slot.
    a1.send({ id: 1, method: 'subscription.stop' });
    await waitFor(() => replies(a1, 1).some((m) => m.result?.type === 'stopped'), { what: 'the stop' });
    expect((await subscribeAll(a3, [2])).started).toEqual([2]);
    expect((await subscribeAll(a3, [3])).refused).toEqual([3]);

    // A socket that vanishes (no close handshake) frees all of its slots.
    const open = app.stats.connections;
    a1.ws.terminate();
    await waitFor(() => app.stats.connections === open - 1, { what: 'the server to see the socket gone' });
    const a4 = await RawTrpcSocket.open(server.url, alice.token);
    const after = await subscribeAll(a4, [1, 2, 3]);
    expect(after.started).toEqual([1, 2]);
    expect(after.refused).toEqual([3]);
  });

  it('holds no slot for a subscription that fails to start, nor for one the server ends (sign-out)', async () => {
    const carol = await signUp(app, { password: 'correct horse battery' });
    const c1 = await RawTrpcSocket.open(server.url, carol.token);
    const c2 = await RawTrpcSocket.open(server.url, carol.token);
    // Failed starts (no such procedure, bad input), three a frame (the per-socket cap): none may keep a slot.
    c1.send([1, 2, 3].map((id) => ({ id, method: 'subscription', params: { path: 'system.nope' } })));
    await waitFor(() => [1, 2, 3].every((id) => refusal(c1, id)), { what: 'the unknown procedure refused' });
    c1.send(
      [4, 5, 6].map((id) => ({
        id,
        method: 'subscription',
        params: { path: 'market.live', input: { json: { symbol: 42 } } },
      })),
    );
    await waitFor(() => [4, 5, 6].every((id) => refusal(c1, id)), { what: 'the bad input refused' });
    expect([1, 2, 3, 4, 5, 6].map((id) => refusal(c1, id)!.json.data.code)).not.toContain('TOO_MANY_REQUESTS');
    expect((await subscribeAll(c1, [7, 8, 9])).started).toEqual([7, 8, 9]);
    expect((await subscribeAll(c2, [1, 2, 3])).started).toEqual([1, 2]);

    // Signing out everywhere ends all five on the server's side; a new session has the whole count again.
    await carol.caller.auth.signOutEverywhere();
    await waitFor(
      () =>
        [7, 8, 9].every((id) => replies(c1, id).some((m) => m.result?.type === 'stopped')) &&
        [1, 2].every((id) => replies(c2, id).some((m) => m.result?.type === 'stopped')),
      { what: 'the subscriptions ended by the sign-out' },
    );
    const { token } = await anonymousCaller(app).auth.signIn({
      email: carol.user.email,
      password: 'correct horse battery',
    });
    const c3 = await RawTrpcSocket.open(server.url, token);
    const c4 = await RawTrpcSocket.open(server.url, token);
    expect((await subscribeAll(c3, [1, 2, 3])).started).toEqual([1, 2, 3]);
    const last = await subscribeAll(c4, [1, 2, 3]);
    expect([last.started, last.refused]).toEqual([[1, 2], [3]]);
  });
});

/** Opens a socket or reads why it was refused (status and body of the HTTP answer to the upgrade). */
function tryOpen(url: string): Promise<{ ws: WebSocket } | { status: number; body: string }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/trpc`);
  ws.on('error', () => {});
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
}

describe('per-address socket cap', () => {
  it('refuses the socket past the cap at upgrade with a reason, and a closed socket frees its place', async () => {
    const opened: WebSocket[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await tryOpen(narrowServer.url);
      if (!('ws' in r)) throw new Error(`socket ${i + 1} was refused: ${r.status} ${r.body}`);
      opened.push(r.ws);
    }
    const refused = await tryOpen(narrowServer.url);
    expect(refused).toEqual({
      status: 429,
      body: expect.stringMatching(/^Too many open connections from this address \(at most 3\)/),
    });

    // The sockets already open still work.
    const health = new Promise<string>((resolve) => opened[0]!.once('message', (d) => resolve(d.toString())));
    opened[0]!.send(JSON.stringify({ id: 1, method: 'query', params: { path: 'system.health' } }));
    expect(JSON.parse(await health)).toMatchObject({ id: 1, result: { type: 'data' } });

    // Cut without a close handshake: the place comes back once the server sees the socket gone.
    opened.shift()!.terminate();
    const again = await waitFor(
      async () => {
        const r = await tryOpen(narrowServer.url);
        return 'ws' in r ? r.ws : null;
      },
      { what: 'a freed place for a new socket' },
    );
    opened.push(again);
    expect('status' in (await tryOpen(narrowServer.url))).toBe(true);
    for (const ws of opened) ws.terminate();
  });
});
