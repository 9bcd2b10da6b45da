import { sql } from 'drizzle-orm';
import type { App } from '../../app';

export async function checkHealth(app: App) {
  let ok = true;
  try {
    await app.db.execute(sql`select 1`);
  } catch {
    ok = false;
  }
  return {
    ok,
    db: app.database.kind,
    upstreams: app.config.UPSTREAMS,
    googleSignIn: Boolean(app.config.GOOGLE_CLIENT_ID && app.config.GOOGLE_CLIENT_SECRET),
  };
}

export async function collectStats(app: App) {
  const mem = process.memoryUsage();
  const cluster = await app.cluster.view();
  return {
    cluster: { ...cluster, upstreamConnectionsTotal: cluster.instances.reduce((n, i) => n + i.upstreams, 0) },
    connections: app.stats.connections,
    connectionsTotal: app.stats.connectionsTotal,
    slowClientDisconnects: app.stats.slowClientDisconnects,
    subscriptions: app.stats.subscriptionsByPath(),
    upstreamConnections: app.stats.upstreamConnections(),
    bus: app.bus.stats(),
    memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
    uptimeSeconds: Math.round((Date.now() - app.startedAt.getTime()) / 1000),
  };
}
