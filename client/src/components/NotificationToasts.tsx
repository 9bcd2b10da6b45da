import { useSubscription } from '@trpc/tanstack-react-query';
import { toast } from 'sonner';
import { useLocation } from 'wouter';
import { isResumePoint, RESUME_EXPIRED_CODE } from '../../../shared/system';
import { notifyDesktop } from '../desktop';
import { useTRPC } from '../trpc';

/**
 * Every event addressed to the signed-in user becomes a toast; features choose the text via
 * payload.message. A fired market alert is also a desktop notification when this browser has
 * them on (the same opt-in as chat's) and the tab is in the background.
 */
export function NotificationToasts() {
  const trpc = useTRPC();
  const [, navigate] = useLocation();
  const stream = useSubscription(
    trpc.system.notifications.subscriptionOptions(undefined, {
      onData: ({ data: event }) => {
        // The stream's resume point only lets a reconnect resume; it is no notification.
        if (isResumePoint(event)) return;
        const message = (event.payload as { message?: unknown } | null)?.message;
        if (typeof message !== 'string') return;
        toast(message);
        if (event.type === 'alert_fired')
          notifyDesktop({
            title: 'Market alert',
            body: message,
            tag: `alert-${event.id}`,
            onClick: () => navigate('/market'),
          });
      },
      // Away longer than notifications are kept: say so, then follow live again.
      onError: (err) => {
        if (err.data?.code !== RESUME_EXPIRED_CODE) return;
        toast('Some older notifications are no longer kept.');
        stream.reset();
      },
    }),
  );
  return null;
}
