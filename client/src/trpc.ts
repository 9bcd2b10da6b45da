import { QueryClient } from '@tanstack/react-query';
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink, type TRPCLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import superjson from 'superjson';
import type { AppRouter } from '../../server/router';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/trpc`;

/** One WebSocket for every subscription; it reconnects by itself and resumes from each stream's last event id. */
const openWsClient = () =>
  createWSClient({
    url: wsUrl,
    // 0.5 s, 1 s, 2 s … capped at 10 s: quick after a deploy, gentle during an outage.
    retryDelayMs: (attempt) => Math.min(500 * 2 ** attempt, 10_000),
  });

type WsClient = ReturnType<typeof openWsClient>;
export type RealtimeState = ReturnType<WsClient['connectionState']['get']>['state'];

let wsClient: WsClient = openWsClient();
const stateListeners = new Set<(state: RealtimeState) => void>();
const follow = (client: WsClient) =>
  client.connectionState.subscribe({ next: (s) => stateListeners.forEach((l) => l(s.state)) });
let following = follow(wsClient);

/** The realtime connection's state, whichever socket currently carries it. */
export const realtimeState = {
  get: (): RealtimeState => wsClient.connectionState.get().state,
  subscribe(listener: (state: RealtimeState) => void): () => void {
    stateListeners.add(listener);
    return () => stateListeners.delete(listener);
  },
};

/**
 * The WebSocket's session is fixed when it connects, so after signing in or out the client is
 * replaced by a new one (which connects with the new cookie), and the old one is closed.
 * Closing and reopening the same client raced with subscriptions started at that moment: one
 * sent on the closing, still anonymous socket was refused and never sent again.
 */
export function reconnectRealtime() {
  const old = wsClient;
  following.unsubscribe();
  wsClient = openWsClient();
  following = follow(wsClient);
  stateListeners.forEach((l) => l(realtimeState.get()));
  void old.close();
}

/** Subscriptions go to whichever WebSocket client is current when they start. */
const currentWsLink: TRPCLink<AppRouter> = (runtime) => (op) =>
  wsLink<AppRouter>({ client: wsClient, transformer: superjson })(runtime)(op);

export const trpcClient = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: currentWsLink,
      // Below the server's HTTP_MAX_BATCH_SIZE (default 50), which refuses larger batches whole.
      false: httpBatchLink({ url: '/trpc', transformer: superjson, maxItems: 20 }),
    }),
  ],
});

export const queryClient = new QueryClient({
  defaultOptions: { queries: { staleTime: 5_000, retry: 1, refetchOnWindowFocus: false } },
});
