import { QueryClient } from '@tanstack/react-query';
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import superjson from 'superjson';
import type { AppRouter } from '../../server/router';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/trpc`;

/** One WebSocket for every subscription; it reconnects by itself and resumes from each stream's last event id. */
export const wsClient = createWSClient({
  url: wsUrl,
  // 0.5 s, 1 s, 2 s … capped at 10 s: quick after a deploy, gentle during an outage.
  retryDelayMs: (attempt) => Math.min(500 * 2 ** attempt, 10_000),
});

/**
 * The WebSocket's session is fixed when it connects, so after signing in or out we drop it;
 * the client reconnects at once with the new cookie and re-subscribes.
 */
export function reconnectRealtime() {
  wsClient.connection?.ws.close();
}

export const trpcClient = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: wsLink({ client: wsClient, transformer: superjson }),
      // Below the server's HTTP_MAX_BATCH_SIZE (default 50), which refuses larger batches whole.
      false: httpBatchLink({ url: '/trpc', transformer: superjson, maxItems: 20 }),
    }),
  ],
});

export const queryClient = new QueryClient({
  defaultOptions: { queries: { staleTime: 5_000, retry: 1, refetchOnWindowFocus: false } },
});
