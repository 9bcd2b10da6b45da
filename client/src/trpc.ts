import { QueryClient } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, wsLink, type TRPCLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import superjson from 'superjson';
import type { AppRouter } from '../../server/router';
import { sessionEndLink } from './session-end';
import { movableLink } from './movable-link';
import { transport, wsClient } from './transport';

export { realtimeState, reconnectRealtime, type RealtimeState } from './transport';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** Subscriptions go to whichever WebSocket client is current when they start. */
const currentWsLink: TRPCLink<AppRouter> = (runtime) => (op) =>
  wsLink<AppRouter>({ client: wsClient, transformer: superjson })(runtime)(op);

/** Server-sent events, one stream per subscription, each with this page's cookie. */
const sseLink: TRPCLink<AppRouter> = httpSubscriptionLink({ url: '/trpc', transformer: superjson });

export const trpcClient = createTRPCClient<AppRouter>({
  links: [
    sessionEndLink,
    splitLink({
      condition: (op) => op.type === 'subscription',
      // The WebSocket, or SSE where it cannot open; a change of transport moves open subscriptions (movable-link.ts).
      true: [
        movableLink,
        splitLink({ condition: () => transport.current() === 'ws', true: currentWsLink, false: sseLink }),
      ],
      // Below the server's HTTP_MAX_BATCH_SIZE (default 50), which refuses larger batches whole.
      false: httpBatchLink({ url: '/trpc', transformer: superjson, maxItems: 20 }),
    }),
  ],
});

export const queryClient = new QueryClient({
  defaultOptions: { queries: { staleTime: 5_000, retry: 1, refetchOnWindowFocus: false } },
});
