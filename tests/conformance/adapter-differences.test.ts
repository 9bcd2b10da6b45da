import { EventEmitter, on } from 'node:events';
import { initTRPC, tracked } from '@trpc/server';
import { describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLogger } from '../../server/log';
import { createMemoryBus, topic } from '../../server/realtime/bus';
import { FanoutHub } from '../../server/transport/fanout';
import { envelopeHead } from '../../server/transport/frames';
import { afterThis } from '../helpers/cleanup';
import { waitFor } from '../helpers/wait';
import { eventually, rawSocket, testServerAndClientResource } from './client';
import { conformanceServer } from './server';

// What running tRPC's suite against our adapter found, pinned where its suite does not look.

/** A transformer that is neither superjson nor none: every value travels as `{ tagged: value }`. */
const tagged = {
  serialize: (value: unknown) => ({ tagged: value }),
  deserialize: (value: unknown) => (value as { tagged: unknown }).tagged,
};

/** Every frame a raw socket receives, parsed, from the moment it opens. */
function framesOf(ws: WebSocket): unknown[] {
  const frames: unknown[] = [];
  ws.on('message', (data) => void frames.push(JSON.parse(data.toString())));
  return frames;
}

const opened = (ws: WebSocket) => new Promise((resolve) => ws.once('open', resolve));

describe('the data stream uses the router transformer', () => {
  const t = initTRPC.create({ transformer: tagged });
  const ee = new EventEmitter();
  const router = t.router({
    onValue: t.procedure.subscription(async function* ({ signal }) {
      for await (const [value] of on(ee, 'value', { signal })) yield value.tracked ? tracked(value.id, value) : value;
    }),
  });

  it('encodes tracked and untracked values as every other frame is (not always superjson)', async () => {
    const ctx = testServerAndClientResource(router, { wsClient: { lazy: { enabled: false, closeMs: 0 } } });
    const raw = rawSocket(ctx.wssUrl);
    const frames = framesOf(raw);
    await opened(raw);
    raw.send(
      JSON.stringify({
        id: 7,
        method: 'subscription',
        params: { path: 'onValue', input: tagged.serialize(undefined) },
      }),
    );
    const onData = vi.fn();
    const sub = ctx.client.onValue.subscribe(undefined, { onData });
    await waitFor(() => ee.listenerCount('value') === 2, { what: 'both subscriptions to listen' });
    ee.emit('value', { id: 'a', tracked: true });
    ee.emit('value', { n: 2 });
    await eventually(() => expect(onData).toHaveBeenCalledTimes(2));
    expect(onData.mock.calls.map((c) => c[0])).toEqual([{ id: 'a', data: { id: 'a', tracked: true } }, { n: 2 }]);
    await waitFor(() => frames.length >= 3, { what: 'the raw socket to get started and two values' });
    expect(frames).toEqual([
      { id: 7, result: { type: 'started' } },
      { id: 7, result: { type: 'data', id: 'a', data: { tagged: { id: 'a', data: { id: 'a', tracked: true } } } } },
      { id: 7, result: { data: { tagged: { n: 2 } } } },
    ]);
    sub.unsubscribe();
  });

  it('encodes the shared-topic fan-out with the serializer it is given', async () => {
    const log = createLogger('silent');
    const bus = createMemoryBus(() => {});
    const hub = new FanoutHub(
      bus,
      log,
      { maxBufferedBytes: 1 << 20, conflateBytes: 1 << 19, batch: 512 },
      tagged.serialize,
    );
    const wss = new WebSocketServer({ port: 0 });
    afterThis(() => new Promise((resolve) => wss.close(resolve)));
    const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const raw = rawSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
    const frames = framesOf(raw);
    const conn = { ws: await serverSide, cut: false, cutSlow() {} };
    const news = topic<{ id?: string; data: unknown }>('conformance-news');
    const detach = hub.attach({
      topic: news,
      toWire: (e) => ({ trackedId: e.id ?? null, data: e.data }),
      conn,
      head: envelopeHead(3, undefined),
      caughtUp: [],
    });
    afterThis(detach);
    bus.publish(news, { id: '9', data: { title: 'stored' } });
    bus.publish(news, { data: { price: 1 } });
    await waitFor(() => frames.length >= 2, { what: 'two fan-out frames' });
    expect(frames).toEqual([
      { id: 3, result: { type: 'data', id: '9', data: { tagged: { id: '9', data: { title: 'stored' } } } } },
      { id: 3, result: { data: { tagged: { price: 1 } } } },
    ]);
  });
});

describe('subscription.stop in the same frame as its subscription', () => {
  it('is answered with stopped, and the subscription never starts', async () => {
    const t = initTRPC.create();
    const started = vi.fn();
    const router = t.router({
      onTick: t.procedure.subscription(async function* ({ signal }) {
        started();
        for await (const [n] of on(new EventEmitter(), 'tick', { signal })) yield n;
      }),
    });
    const server = conformanceServer(router);
    const raw = rawSocket(server.wssUrl);
    const frames = framesOf(raw);
    await opened(raw);
    raw.send(
      JSON.stringify([
        { id: 1, method: 'subscription', params: { path: 'onTick' } },
        { id: 1, method: 'subscription.stop' },
      ]),
    );
    await waitFor(() => frames.some((f) => (f as { id: number }).id === 1), { what: 'the stop to be answered' });
    expect(frames.filter((f) => (f as { id: number }).id === 1)).toEqual([{ id: 1, result: { type: 'stopped' } }]);
    expect(started).not.toHaveBeenCalled();
  });
});
