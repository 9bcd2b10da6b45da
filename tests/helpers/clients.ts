import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  httpSubscriptionLink,
  wsLink,
  type TRPCClient,
} from '@trpc/client';
import superjson from 'superjson';
import WebSocket from 'ws';
import type { AppRouter } from '../../server/router';
import { NodeEventSource, type NodeEventSourceInit } from '../../client/cli/event-source';
import { afterThis } from './cleanup';

/** A Node script's view of Hubcast over HTTP: bearer token, no cookies. */
export function httpClient(baseUrl: string, token?: string): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${baseUrl}/trpc`,
        transformer: superjson,
        headers: () => (token ? { Authorization: `Bearer ${token}` } : {}),
      }),
    ],
  });
}

/**
 * The same over one WebSocket, authenticated by `connectionParams.token`. Closed when the test
 * that opened it ends, pass or fail, so one failure cannot leave subscriptions running into the
 * next test; opened outside a test (shared by a file), closed after the file.
 */
export function wsClient(
  baseUrl: string,
  token?: string,
  opts: { onClose?: (cause?: { code?: number }) => void } = {},
) {
  const ws = createWSClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/trpc`,
    // Node 20 has no global WebSocket.
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: () => (token ? { token } : {}),
    retryDelayMs: () => 100,
    onClose: opts.onClose,
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws, transformer: superjson })] });
  afterThis(() => ws.close());
  return { client, ws };
}

/**
 * Subscriptions over server-sent events (httpSubscriptionLink), one stream each, with the bearer
 * token in its Authorization header: what the CLI's --transport sse uses. Each stream closes
 * with its subscription; unsubscribe in the test (or let the server close) to end one.
 */
export function sseClient(baseUrl: string, token?: string): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [
      httpSubscriptionLink({
        url: `${baseUrl}/trpc`,
        transformer: superjson,
        EventSource: NodeEventSource,
        eventSourceOptions: (): NodeEventSourceInit => ({
          headers: token ? { Authorization: `Bearer ${token}` } : {},
        }),
      }),
    ],
  });
}
