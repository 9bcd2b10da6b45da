import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { realtimeState, useTRPC } from './trpc';

/**
 * When the realtime connection comes back after a loss, what failed meanwhile is fetched again,
 * and who is signed in is asked again (it may have come from `remembered-user.ts`, or the
 * session may have ended while away).
 */
export function useRefetchOnReconnect() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  useEffect(() => {
    let wasConnected = realtimeState.get() === 'pending';
    return realtimeState.subscribe((state) => {
      const connected = state === 'pending';
      if (connected && !wasConnected) {
        void queryClient.invalidateQueries(trpc.auth.me.queryFilter());
        void queryClient.invalidateQueries({ predicate: (q) => q.state.status === 'error' });
      }
      wasConnected = connected;
    });
  }, [queryClient, trpc]);
}
