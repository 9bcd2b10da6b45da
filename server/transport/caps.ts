import type { App } from '../app';
import { announceThreshold, SharedCounts } from '../cluster/shared-counts';
import { OpenCounts } from './open-counts';

/**
 * The caps both realtime transports count against, built once per server so a WebSocket and a
 * server-sent-events stream take from the same gauges: open subscriptions per user
 * (WS_MAX_SUBSCRIPTIONS_PER_USER) and open realtime connections per address
 * (WS_MAX_SOCKETS_PER_ADDRESS: WebSockets and SSE streams alike). On Postgres each counts the
 * whole cluster (the others' counts arrive over the bus); PGlite is one process.
 */
export function createRealtimeCaps(app: App) {
  const { config, log } = app;
  const shares: SharedCounts[] = [];
  const gauge = (name: string, max: number) => {
    if (app.database.kind !== 'postgres') return new OpenCounts(max);
    const share = new SharedCounts({
      bus: app.bus,
      log,
      instanceId: app.instanceId,
      gauge: name,
      threshold: announceThreshold(max, config.WS_CAPS_ANNOUNCE_FRACTION),
      periodMs: config.WS_CAPS_ANNOUNCE_MS,
    });
    shares.push(share);
    return new OpenCounts(max, share);
  };
  return {
    userSubscriptions: gauge('subscriptions-per-user', config.WS_MAX_SUBSCRIPTIONS_PER_USER),
    perAddress: gauge('sockets-per-address', config.WS_MAX_SOCKETS_PER_ADDRESS),
    close() {
      for (const share of shares) share.close();
    },
  };
}

export type RealtimeCaps = ReturnType<typeof createRealtimeCaps>;

/** Whose subscriptions a caller's count against: its user, or its address without one (same key on both transports). */
export const subscriberKey = (user: { id: string } | null, ip: string) => (user ? `user:${user.id}` : `address:${ip}`);
