import { Gauge, type Registry } from 'prom-client';
import type { EventBus } from '../realtime/bus';
import { countFrom } from '../metric-readers';
import type { Elector } from './elector';

/** The cluster in /metrics: instances alive, who leads what, upstreams in total, bus lag. */
export function registerClusterMetrics(registry: Registry, cluster: Elector, bus: EventBus) {
  // One read of the cluster table per scrape, shared by the gauges that need it.
  let view: ReturnType<Elector['view']> | null = null;
  const current = () => (view ??= cluster.view().finally(() => setTimeout(() => (view = null), 100).unref()));
  new Gauge({
    name: 'hubcast_cluster_instances',
    help: 'Instances seen alive in the last few election rounds',
    registers: [registry],
    async collect() {
      this.set((await current()).instances.length);
    },
  });
  new Gauge({
    name: 'hubcast_cluster_leader',
    help: '1 for the instance leading each singleton',
    labelNames: ['singleton', 'instance'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [singleton, instance] of Object.entries((await current()).leaders))
        if (instance) this.set({ singleton, instance }, 1);
    },
  });
  new Gauge({
    name: 'hubcast_cluster_upstream_connections',
    help: 'Open upstream connections over every instance',
    registers: [registry],
    async collect() {
      this.set((await current()).instances.reduce((n, i) => n + i.upstreams, 0));
    },
  });
  new Gauge({
    name: 'hubcast_bus_lag_ms',
    help: 'How long the last message from the cross-instance bus took to arrive (ms)',
    registers: [registry],
    collect() {
      this.set(bus.stats().lagMs ?? 0);
    },
  });
  countFrom(
    registry,
    'hubcast_bus_events_received_total',
    'Messages received from the cross-instance bus since start',
    () => bus.stats().received ?? 0,
  );
}
