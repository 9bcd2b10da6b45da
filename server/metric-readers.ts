import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Metrics read from their source at scrape time, so the hot path bumps a plain number instead
 * of calling prom-client. A count that only grows is a Counter (Prometheus' rate() needs the
 * type to handle restarts); a level that goes up and down is a Gauge.
 */
export function countFrom(registry: Registry, name: `${string}_total`, help: string, value: () => number) {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(value());
    },
  });
}

export function levelFrom(registry: Registry, name: string, help: string, value: () => number) {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(value());
    },
  });
}
