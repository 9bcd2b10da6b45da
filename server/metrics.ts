import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { countFrom, levelFrom } from './metric-readers';
import { wsCounters } from './transport/counters';
import { encodeCounter } from './transport/frames';
import type { EventBus } from './realtime/bus';
import type { RealtimeStats } from './realtime/stats';
import type { Elector } from './cluster/elector';
import { registerClusterMetrics } from './cluster/metrics';

export type Metrics = Registry;

/** Prometheus view of the same live counters `system.stats` returns. */
export function createMetrics({
  stats,
  bus,
  cluster,
}: {
  stats: RealtimeStats;
  bus: EventBus;
  cluster: Elector;
}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hubcast_' });
  levelFrom(registry, 'hubcast_ws_connections', 'Open WebSocket connections', () => stats.connections);
  countFrom(
    registry,
    'hubcast_ws_slow_client_disconnects_total',
    'Connections closed because they read too slowly',
    () => stats.slowClientDisconnects,
  );
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
  countFrom(
    registry,
    'hubcast_bus_events_published_total',
    'Events published on the bus since start',
    () => bus.stats().published,
  );
  registerDeliveryMetrics(registry);
  registerClusterMetrics(registry, cluster, bus);
  return registry;
}

/** What the fan-out costs: sends, bytes, encodings per event, slow readers cut, loop stalls. */
function registerDeliveryMetrics(registry: Registry) {
  countFrom(
    registry,
    'hubcast_ws_messages_sent_total',
    'WebSocket messages sent since start',
    () => wsCounters.messagesSent,
  );
  countFrom(registry, 'hubcast_ws_bytes_sent_total', 'WebSocket bytes sent since start', () => wsCounters.bytesSent);
  countFrom(
    registry,
    'hubcast_ws_fanout_events_total',
    'Events dispatched through a shared-topic fan-out since start',
    () => wsCounters.fanoutEvents,
  );
  countFrom(
    registry,
    'hubcast_ws_fanout_writes_total',
    'Socket writes by the fan-out since start (events queued together share one)',
    () => wsCounters.fanoutWrites,
  );
  countFrom(
    registry,
    'hubcast_ws_encodes_total',
    'Event encodings (router transformer + JSON) since start',
    () => encodeCounter.encodes,
  );
  countFrom(
    registry,
    'hubcast_ws_conflated_updates_total',
    'Live-only updates skipped for a reader that was behind (it got a newer one)',
    () => wsCounters.conflated,
  );
  countFrom(
    registry,
    'hubcast_ws_limit_disconnects_total',
    'Connections closed for exceeding a call or subscription limit',
    () => wsCounters.limitDisconnects,
  );
  // Sampled at 20 ms; the maximum is since the previous scrape, so each scrape sees its own interval.
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  levelFrom(
    registry,
    'hubcast_event_loop_max_block_seconds',
    'Longest event-loop block since the previous scrape',
    () => {
      const max = loop.max / 1e9;
      loop.reset();
      return max;
    },
  );
}
