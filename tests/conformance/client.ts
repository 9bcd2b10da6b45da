import {
  createTRPCClient,
  createWSClient,
  wsLink,
  type CreateTRPCClientOptions,
  type TRPCWebSocketClient,
  type WebSocketClientOptions,
} from '@trpc/client';
import type { AnyRouter } from '@trpc/server';
import WebSocket from 'ws';
import { afterThis } from '../helpers/cleanup';
import { waitFor } from '../helpers/wait';
import { conformanceServer, type ConformanceServerOpts } from './server';

/** Node 20 has no global WebSocket: tRPC's own test setup assigns one, we pass it. */
export const NodeWebSocket = WebSocket as unknown as typeof globalThis.WebSocket;

/** A wsClient closed when the test that made it ends. */
export function closedAfterTest(opts: WebSocketClientOptions): TRPCWebSocketClient {
  const client = createWSClient({ WebSocket: NodeWebSocket, ...opts });
  afterThis(() => client.close());
  return client;
}

/**
 * tRPC's `testServerAndClientResource` (packages/client/src/__tests__/testClientResource.ts),
 * WebSocket only: our server has no HTTP side here, so every call goes over `wsLink` with the
 * router's own transformer unless `client` sets the links.
 */
export function testServerAndClientResource<TRouter extends AnyRouter>(
  router: TRouter,
  opts: {
    wsClient?: Partial<WebSocketClientOptions>;
    client?: (o: { wsClient: TRPCWebSocketClient; wssUrl: string }) => Partial<CreateTRPCClientOptions<TRouter>>;
    wssServer?: ConformanceServerOpts;
  } = {},
) {
  const server = conformanceServer(router, opts.wssServer);
  const wsClient = closedAfterTest({ url: server.wssUrl, lazy: { enabled: true, closeMs: 0 }, ...opts.wsClient });
  const transformer = router._def._config.transformer as never;
  const client = createTRPCClient<TRouter>({
    links: [wsLink({ client: wsClient, transformer })],
    ...opts.client?.({ wsClient, wssUrl: server.wssUrl }),
  } as CreateTRPCClientOptions<TRouter>);
  return Object.assign(server, { wsClient, client });
}

/** A bare socket, as tRPC's tests open with `new WebSocket(url)`, terminated when the test ends. */
export function rawSocket(url: string): WebSocket {
  const ws = new WebSocket(url);
  afterThis(() => ws.terminate());
  return ws;
}

/**
 * tRPC's tests wait with `vi.waitFor(assertion)` (1 s by default): the same through our
 * `waitFor`, whose deadline a busy machine does not reach.
 */
export function eventually(assertion: () => unknown): Promise<boolean> {
  return waitFor(
    async () => {
      await assertion();
      return true;
    },
    { what: 'the assertion to pass' },
  );
}
