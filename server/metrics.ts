import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { wsCounters } from './transport/counters';
import { encodeCounter } from './transport/frames';
import type { EventBus } from './realtime/bus';
import type { RealtimeStats } from './realtime/stats';
import type { Elector } from './cluster/elector';
import { registerClusterMetrics } from './cluster/metrics';

export type Metrics = Registry;

/** Prometheus view of the same live counters `system.stats` returns. */
export function createMetrics({ stats, bus, cluster }: { stats: RealtimeStats; bus: EventBus; cluster: Elector }): Metrics {
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
  registerDeliveryMetrics(registry);
  registerClusterMetrics(registry, cluster, bus);
  return registry;
}

/** What the fan-out costs: sends, bytes, encodings per event, slow readers cut, loop stalls. */
function registerDeliveryMetrics(registry: Registry) {
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value());
      },
    });
  gauge('hubcast_ws_messages_sent', 'WebSocket messages sent since start', () => wsCounters.messagesSent);
  gauge('hubcast_ws_bytes_sent', 'WebSocket bytes sent since start', () => wsCounters.bytesSent);
  gauge('hubcast_ws_fanout_events', 'Events dispatched through a shared-topic fan-out since start', () => wsCounters.fanoutEvents);
  gauge('hubcast_ws_fanout_writes', 'Socket writes by the fan-out since start (events queued together share one)', () => wsCounters.fanoutWrites);
  gauge('hubcast_ws_encodes', 'Event encodings (superjson + JSON) since start', () => encodeCounter.encodes);
  gauge('hubcast_ws_conflated_updates', 'Live-only updates skipped for a reader that was behind (it got a newer one)', () => wsCounters.conflated);
  gauge('hubcast_ws_limit_disconnects', 'Connections closed for exceeding a call or subscription limit', () => wsCounters.limitDisconnects);
  // Sampled at 20 ms; the maximum is since the previous scrape, so each scrape sees its own interval.
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  gauge('hubcast_event_loop_max_block_seconds', 'Longest event-loop block since the previous scrape', () => {
    const max = loop.max / 1e9;
    loop.reset();
    return max;
  });
}
