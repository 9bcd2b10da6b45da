import { initTRPC } from '@trpc/server';
import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  idleSender,
  isAsyncIterable,
  isObject,
  rawSocketOf,
  routerConfig,
  textFrame,
} from '../../server/transport/internals';
import { afterThis } from '../helpers/cleanup';
import { waitFor } from '../helpers/wait';

// Each check names what moved: an upgrade of @trpc/server or ws that breaks one fails here,
// loudly, instead of in the fan-out's first prebuilt frame. Fix server/transport/internals.ts.

async function connectedPair(opts: { perMessageDeflate?: boolean } = {}) {
  const wss = new WebSocketServer({ port: 0, ...opts });
  afterThis(() => new Promise((resolve) => wss.close(resolve)));
  const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
  afterThis(() => client.terminate());
  const received: string[] = [];
  client.on('message', (data) => void received.push(data.toString()));
  await new Promise((resolve) => client.once('open', resolve));
  return { server: await serverSide, received };
}

describe('tRPC internals we rely on', () => {
  it('a router keeps its root config (transformer, error formatter) at _def._config', () => {
    const t = initTRPC.create({ transformer: superjson });
    const config = routerConfig(t.router({}));
    expect(config, '@trpc/server moved router._def._config').toBeDefined();
    expect(typeof config.transformer.output.serialize, 'the root config lost transformer.output.serialize').toBe(
      'function',
    );
    expect(typeof config.transformer.input.deserialize, 'the root config lost transformer.input.deserialize').toBe(
      'function',
    );
    expect(typeof config.errorFormatter, 'the root config lost errorFormatter').toBe('function');
    // Without a transformer tRPC still fills one in: values pass as they are.
    expect(routerConfig(initTRPC.create().router({})).transformer.output.serialize({ a: 1 })).toEqual({ a: 1 });
  });

  it('isAsyncIterable and isObject from unstable-core-do-not-import still tell what they say', () => {
    expect(isAsyncIterable((async function* () {})())).toBe(true);
    expect(isAsyncIterable({})).toBe(false);
    expect(isObject({})).toBe(true);
    expect(isObject([])).toBe(false);
    expect(isObject(null)).toBe(false);
  });
});

describe('ws internals we rely on', () => {
  it('Sender.frame builds a text frame a peer reads as the same text', async () => {
    const { server, received } = await connectedPair();
    const frame = textFrame(Buffer.from('{"hello":"frame"}'));
    expect(Array.isArray(frame), 'ws moved Sender.frame (or its return shape)').toBe(true);
    const sender = idleSender(server);
    expect(sender, 'ws moved _sender, _sender._state, _sender._queue or _extensions').not.toBeNull();
    sender!.sendFrame([Buffer.concat(frame)]);
    await waitFor(() => received.length === 1, { what: 'the prebuilt frame to arrive' });
    expect(received).toEqual(['{"hello":"frame"}']);
  });

  it('_socket is the TCP socket under the WebSocket', async () => {
    const { server } = await connectedPair();
    const raw = rawSocketOf(server) as unknown as { write?: unknown; once?: unknown } | undefined;
    expect(raw, 'ws moved _socket').toBeDefined();
    expect(typeof raw!.write, '_socket is no longer a stream').toBe('function');
    expect(typeof raw!.once, '_socket is no longer an emitter').toBe('function');
  });

  it('_extensions names permessage-deflate, so a compressing socket never gets a raw frame', async () => {
    const { server } = await connectedPair({ perMessageDeflate: true });
    expect(
      (server as unknown as { _extensions: Record<string, unknown> })._extensions['permessage-deflate'],
      'ws moved _extensions',
    ).toBeDefined();
    expect(idleSender(server)).toBeNull();
  });
});
