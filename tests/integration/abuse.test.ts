import { describe, expect, it } from 'vitest';
import { CLOSE_TOO_MANY_CALLS } from '../../server/transport/close-codes';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { collect, subscribed } from '../helpers/collections';
import { wsClient } from '../helpers/clients';
import { RawTrpcSocket } from '../helpers/raw-ws';
import { rowChanges, rowCounts } from '../helpers/row-counts';
import { waitFor } from '../helpers/wait';

// Floods that ws-limits.test.ts and edge.test.ts do not cover: a batch of writes past the limit
// must run none of them (not the first hundred), the abuser is told why, and someone else on
// the same server keeps being served. Default limits: 50 calls a second per socket, 50 per
// HTTP batch.

const app = await createTestApp();
const server = await startTestServer(app);
const abuser = await signUp(app, { name: 'Abuser' });
const bystander = await signUp(app, { name: 'Bystander' });
const create = (id: number) => ({
  id,
  method: 'mutation',
  params: { path: 'collections.create', input: { json: { title: `flood ${id}` } } },
});

describe('floods of writes', () => {
  it('one WebSocket frame of 1,000 mutations: the socket is closed with the reason, and not one of them ran', async () => {
    const events = collect<unknown>();
    const { client } = wsClient(server.url, bystander.token);
    const count = () => app.stats.subscriptionsByPath()['collections.events'] ?? 0;
    await subscribed(count, () => client.collections.events.subscribe(undefined, events));
    const before = await rowCounts(app);

    const s = await RawTrpcSocket.open(server.url, abuser.token);
    s.send(Array.from({ length: 1000 }, (_, i) => create(i + 1)));
    await waitFor(() => s.closeCode !== null, { what: "the abuser's socket to close" });
    expect(s.closeCode).toBe(CLOSE_TOO_MANY_CALLS);
    expect(s.closeReason).toBe('more than 50 calls per second');
    expect(s.messages.filter((m) => m !== 'PING' && m.result)).toEqual([]);
    expect(rowChanges(before, await rowCounts(app))).toEqual([]);

    // The bystander's socket was not touched: its calls and its stream still work.
    const mine = await client.collections.create.mutate({ title: 'still served' });
    await waitFor(() => events.events.some((e) => JSON.stringify(e.data).includes(String(mine.id))), {
      what: "the bystander's own event",
    });
    expect(events.errors).toEqual([]);
  });

  it('an HTTP batch over the cap runs none of its calls and says why', async () => {
    const before = await rowCounts(app);
    const n = 200;
    const body = JSON.stringify(
      Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), { json: { title: `batch ${i}` } }])),
    );
    const res = await fetch(
      `${server.url}/trpc/${Array.from({ length: n }, () => 'collections.create').join(',')}?batch=1`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', Authorization: `Bearer ${abuser.token}` },
        body,
      },
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/batch/i);
    expect(rowChanges(before, await rowCounts(app))).toEqual([]);
  });
});
