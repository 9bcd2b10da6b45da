import WebSocket from 'ws';
import { describe, expect, it, onTestFinished } from 'vitest';
import { afterThis } from '../helpers/cleanup';
import { httpClient } from '../helpers/clients';
import { BUSES, createEmptyDatabase, startInstance, uniqueChannel, type Instance } from '../helpers/cluster';
import { RawTrpcSocket, type ServerMessage } from '../helpers/raw-ws';
import { waitFor } from '../helpers/wait';

/**
 * Issue 18 §4: the per-user subscription cap and the per-address socket cap count the whole
 * cluster, not each instance. Two real server processes on one fresh Postgres database, over
 * LISTEN/NOTIFY and over Redis: what one user (one address) holds on A counts on B, a slot freed
 * on A is free on B, and the slots of an instance that dies lapse.
 */
const postgres = !!process.env.DATABASE_URL;
const SUBSCRIPTIONS = 6;
const SOCKETS = 4;
// Short periods: a killed instance's counts lapse after three (0.6 s) instead of 15 s.
const ANNOUNCE_MS = 200;

type Reply = Exclude<ServerMessage, 'PING'>;
type ErrorJson = { json: { message: string; data: { code: string } } };
const replies = (s: RawTrpcSocket, id: number) => s.messages.filter((m): m is Reply => m !== 'PING' && m.id === id);
const started = (s: RawTrpcSocket, id: number) => replies(s, id).some((m) => m.result?.type === 'started');
const refusal = (s: RawTrpcSocket, id: number) =>
  replies(s, id)
    .map((m) => m.error as ErrorJson | undefined)
    .find(Boolean);
const stopped = (s: RawTrpcSocket, id: number) => replies(s, id).some((m) => m.result?.type === 'stopped');

/** One subscription per id, sent in one frame; resolves with which started and which were refused. */
async function subscribe(s: RawTrpcSocket, ids: number[]) {
  s.send(ids.map((id) => ({ id, method: 'subscription', params: { path: 'system.notifications' } })));
  await waitFor(() => ids.every((id) => started(s, id) || refusal(s, id)), {
    what: `answers to subscriptions ${ids.join(', ')}`,
  });
  return { started: ids.filter((id) => started(s, id)), refused: ids.filter((id) => refusal(s, id)) };
}

async function stop(s: RawTrpcSocket, id: number) {
  s.send({ id, method: 'subscription.stop' });
  await waitFor(() => stopped(s, id), { what: `subscription ${id} stopped` });
}

/**
 * What `s` answers to one more subscription once the other instance's counts have arrived: the
 * bus is a round trip behind, so an answer that is not yet `want` is undone and asked again.
 */
let nextId = 100;
async function eventually(s: RawTrpcSocket, want: 'started' | 'refused'): Promise<number> {
  return waitFor(
    async () => {
      const id = nextId++;
      const r = await subscribe(s, [id]);
      if (want === 'started' ? r.started.length : r.refused.length) return id;
      if (r.started.length) await stop(s, id);
      return null;
    },
    // Spaced, so the retries stay well under the per-socket call rate (WS_MAX_CALLS_PER_SECOND).
    { what: `a subscription ${want}`, intervalMs: 100 },
  );
}

/** Opens a socket or reads why it was refused (status and body of the HTTP answer to the upgrade). */
function tryOpen(url: string): Promise<{ ws: WebSocket } | { status: number; body: string }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/trpc`);
  ws.on('error', () => {});
  afterThis(() => ws.terminate());
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
}

/** Like `eventually`, for sockets: a socket that opens while a refusal is wanted is closed and tried again. */
async function socketEventually(url: string, want: 'open' | 'refused') {
  return waitFor(
    async () => {
      const r = await tryOpen(url);
      if ('ws' in r) {
        if (want === 'open') return r;
        await new Promise((resolve) => (r.ws.once('close', resolve), r.ws.close()));
        return null;
      }
      return want === 'refused' ? r : null;
    },
    { what: `a socket ${want}` },
  );
}

describe.skipIf(!postgres)(
  'the socket caps on two instances (skipped on PGlite: one embedded database is one process)',
  () => {
    describe.each(BUSES)('over $bus', ({ env }) => {
      it('count one user and one address over both instances; a slot freed on A is free on B; a killed instance keeps none', async () => {
        const database = await createEmptyDatabase();
        onTestFinished(() => database.close());
        const common = {
          DATABASE_URL: database.url,
          BUS_CHANNEL: uniqueChannel(),
          WS_MAX_SUBSCRIPTIONS_PER_USER: String(SUBSCRIPTIONS),
          WS_MAX_SOCKETS_PER_ADDRESS: String(SOCKETS),
          WS_CAPS_ANNOUNCE_MS: String(ANNOUNCE_MS),
          VAULT_AUTO_REFRESH_ENABLED: 'false',
          ...env,
        };
        const [a, b]: [Instance, Instance] = await Promise.all([
          startInstance('a', common),
          startInstance('b', common),
        ]);
        const { token } = await httpClient(a.url).auth.signUp.mutate({
          email: `caps-${Date.now()}@example.com`,
          password: 'one user, two instances',
          name: 'Caps',
        });
        const onA = await RawTrpcSocket.open(a.url, token);
        const onB = await RawTrpcSocket.open(b.url, token);

        // Subscriptions: four on A, two on B make six; the seventh, on B, is refused.
        expect((await subscribe(onA, [1, 2, 3, 4])).started).toEqual([1, 2, 3, 4]);
        expect((await subscribe(onB, [1, 2])).started).toEqual([1, 2]);
        const past = await eventually(onB, 'refused');
        expect(refusal(onB, past)!.json).toMatchObject({
          message: expect.stringMatching(/^Too many open subscriptions for one account \(at most 6\)/),
          data: { code: 'TOO_MANY_REQUESTS' },
        });
        expect([onA.closeCode, onB.closeCode]).toEqual([null, null]);
        // And on A likewise: it knows B's two.
        await eventually(onA, 'refused');

        // One closed on A: B may take it, and then is full again.
        await stop(onA, 1);
        await eventually(onB, 'started');
        expect((await subscribe(onB, [nextId++])).refused).toHaveLength(1);

        // Sockets: the two above plus one more on each instance make four from this address.
        const extraA = await tryOpen(a.url);
        const extraB = await tryOpen(b.url);
        if (!('ws' in extraA) || !('ws' in extraB)) throw new Error('a socket within the cap was refused');
        const refused = await socketEventually(b.url, 'refused');
        expect(refused).toEqual({
          status: 429,
          body: expect.stringMatching(/^Too many open connections from this address \(at most 4\)/),
        });
        expect('status' in (await socketEventually(a.url, 'refused'))).toBe(true);
        // One closed on A: B may open one.
        extraA.ws.terminate();
        const reopened = await socketEventually(b.url, 'open');
        expect('ws' in reopened).toBe(true);
        expect('status' in (await tryOpen(b.url))).toBe(true);

        // A dies without a word: its three subscriptions and two sockets lapse; B alone has the whole caps.
        a.child.kill('SIGKILL');
        await a.exited;
        await eventually(onB, 'started');
        await eventually(onB, 'started');
        await eventually(onB, 'started');
        expect((await subscribe(onB, [nextId++])).refused).toHaveLength(1);
        await socketEventually(b.url, 'open');
        expect('status' in (await tryOpen(b.url))).toBe(true);
      });
    });
  },
);
