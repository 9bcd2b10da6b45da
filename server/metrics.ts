import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventBus } from './realtime/bus';
import type { RealtimeStats } from './realtime/stats';

export type Metrics = Registry;

/** Prometheus view of the same live counters `system.stats` returns. */
export function createMetrics({ stats, bus }: { stats: RealtimeStats; bus: EventBus }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hubcast_' });
  new Gauge({
    name: 'hubcast_ws_connections',
    help: 'Open WebSocket connections',
    registers: [registry],
    collect() {
      this.set(stats.connections);
    },
  });
  new Gauge({
    name: 'hubcast_ws_slow_client_disconnects',
    help: 'Connections closed because they read too slowly',
    registers: [registry],
    collect() {
      this.set(stats.slowClientDisconnects);
    },
  });
  new Gauge({
    name: 'hubcast_subscriptions',
    help: 'Open subscriptions per tRPC path',
    labelNames: ['path'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [path, n] of Object.entries(stats.subscriptionsByPath())) this.set({ path }, n);
    },
  });
  new Gauge({
    name: 'hubcast_upstream_connections',
    help: 'Open connections to upstream services',
    labelNames: ['upstream'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [upstream, n] of Object.entries(stats.upstreamConnections())) this.set({ upstream }, n);
    },
  });
  new Gauge({
    name: 'hubcast_bus_events_published',
    help: 'Events published on the bus since start',
    registers: [registry],
    collect() {
      this.set(bus.stats().published);
    },
  });
  return registry;
}
