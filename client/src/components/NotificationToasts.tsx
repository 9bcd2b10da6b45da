import { useSubscription } from '@trpc/tanstack-react-query';
import { toast } from 'sonner';
import { useTRPC } from '../trpc';

/** Every event addressed to the signed-in user becomes a toast; features choose the text via payload.message. */
export function NotificationToasts() {
  const trpc = useTRPC();
  useSubscription(
    trpc.system.notifications.subscriptionOptions(undefined, {
      onData: ({ data: event }) => {
        const message = (event.payload as { message?: unknown } | null)?.message;
        if (typeof message === 'string') toast(message, { description: event.feature });
      },
    }),
  );
  return null;
}
