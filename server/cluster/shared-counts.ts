import type { Logger } from '../log';
import { topic, type EventBus } from '../realtime/bus';
import type { CountsShare } from '../transport/open-counts';
import { guarded } from '../guarded';

type Entry = [key: string, n: number];
type CountsMessage =
  | { kind: 'counts'; instance: string; gauge: string; entries: Entry[] }
  | { kind: 'ask'; instance: string; gauge: string };
const counts = topic<CountsMessage>('cluster:open-counts');

/** An announcement is split into messages of about this many bytes, so each fits one NOTIFY inline (pg-bus.ts). */
const MESSAGE_BYTES = 6_000;
/** What one entry adds to a message besides its key (the count, quotes, commas). */
const ENTRY_OVERHEAD = 16;

export interface SharedCountsOptions {
  bus: EventBus;
  log: Logger;
  instanceId: string;
  /** Which gauge this is (subscriptions per user, sockets per address): each has its own keys. */
  gauge: string;
  /** Keys holding fewer than this here are not announced (they are the slack SECURITY.md states). */
  threshold: number;
  /** Every instance repeats its counts this often; a silent instance's counts lapse after three periods. */
  periodMs: number;
}

/**
 * One gauge's counts shared across the cluster over the bus, as ClusterFeed shares watched
 * symbols: each instance announces its keys holding at least `threshold`, every period and at
 * once (next tick, coalesced) when such a key changes or falls below it, and adds up the
 * others' last announcements. Each announced entry lapses three periods after it was last
 * heard, so an instance that crashed or was cut off holds no slot for long, and nothing here
 * outlives the keys announced by live instances.
 */
export class SharedCounts implements CountsShare {
  /** Per key, per other instance: its last announced count and when we heard it (our clock). */
  private readonly remote = new Map<string, Map<string, { n: number; at: number }>>();
  /** This instance's keys at or above the threshold, with their counts: what the period repeats. */
  private readonly heavy = new Map<string, number>();
  /** Changes to announce on the next tick (0: fell below the threshold, forget it). */
  private readonly dirty = new Map<string, number>();
  private flushing: NodeJS.Immediate | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly stops: (() => void)[];
  private closed = false;

  constructor(private readonly o: SharedCountsOptions) {
    // Another instance's message runs this: whatever it makes throw stays here.
    const onMessage = guarded(o.log, 'open counts message', (m: CountsMessage) => this.onMessage(m));
    this.stops = [
      o.bus.subscribe(counts, onMessage),
      // Whatever was announced while our listener was down never arrived: ask again, and tell ours.
      o.bus.onMissed(guarded(o.log, 'open counts resync', () => this.resync())),
    ];
    this.timer = setInterval(
      guarded(o.log, 'open counts announcement', () => {
        this.announce([...this.heavy]);
        this.prune();
      }),
      o.periodMs,
    );
    this.timer.unref();
    this.publish({ kind: 'ask', instance: o.instanceId, gauge: o.gauge });
  }

  others(key: string): number {
    const byInstance = this.remote.get(key);
    if (!byInstance) return 0;
    const lapsed = Date.now() - this.lapseMs();
    let sum = 0;
    for (const [instance, e] of byInstance) {
      if (e.at < lapsed) byInstance.delete(instance);
      else sum += e.n;
    }
    if (byInstance.size === 0) this.remote.delete(key);
    return sum;
  }

  changed(key: string, n: number) {
    if (n >= this.o.threshold) this.heavy.set(key, n);
    // Light before and light now: the others never counted it, nothing to tell them.
    else if (!this.heavy.delete(key)) return;
    this.dirty.set(key, n >= this.o.threshold ? n : 0);
    this.flushing ??= setImmediate(
      guarded(this.o.log, 'open counts change', () => {
        this.flushing = null;
        const entries = [...this.dirty];
        this.dirty.clear();
        this.announce(entries);
      }),
    );
  }

  /** How many keys other instances' announcements are kept for (bounded: lapsed ones are dropped). */
  remoteKeys(): number {
    return this.remote.size;
  }

  close() {
    this.closed = true;
    clearInterval(this.timer);
    if (this.flushing) clearImmediate(this.flushing);
    for (const stop of this.stops) stop();
    this.remote.clear();
  }

  private lapseMs() {
    return 3 * this.o.periodMs;
  }

  private resync() {
    this.announce([...this.heavy]);
    this.publish({ kind: 'ask', instance: this.o.instanceId, gauge: this.o.gauge });
  }

  private onMessage(m: CountsMessage) {
    if (m.instance === this.o.instanceId || m.gauge !== this.o.gauge) return;
    if (m.kind === 'ask') return this.announce([...this.heavy]);
    const at = Date.now();
    for (const [key, n] of m.entries) {
      if (typeof key !== 'string' || !Number.isSafeInteger(n) || n < 0) continue;
      let byInstance = this.remote.get(key);
      if (n === 0) {
        byInstance?.delete(m.instance);
        if (byInstance?.size === 0) this.remote.delete(key);
        continue;
      }
      if (!byInstance) this.remote.set(key, (byInstance = new Map()));
      byInstance.set(m.instance, { n, at });
    }
  }

  /** Drops every entry not heard for three periods (an instance gone, a key it stopped holding). */
  private prune() {
    const lapsed = Date.now() - this.lapseMs();
    for (const [key, byInstance] of this.remote) {
      for (const [instance, e] of byInstance) if (e.at < lapsed) byInstance.delete(instance);
      if (byInstance.size === 0) this.remote.delete(key);
    }
  }

  /** Sends `entries` in messages of about MESSAGE_BYTES each (none when there is nothing to say). */
  private announce(entries: Entry[]) {
    let chunk: Entry[] = [];
    let bytes = 0;
    for (const entry of entries) {
      const size = Buffer.byteLength(entry[0]) + ENTRY_OVERHEAD;
      if (chunk.length && bytes + size > MESSAGE_BYTES) {
        this.publish({ kind: 'counts', instance: this.o.instanceId, gauge: this.o.gauge, entries: chunk });
        chunk = [];
        bytes = 0;
      }
      chunk.push(entry);
      bytes += size;
    }
    if (chunk.length)
      this.publish({ kind: 'counts', instance: this.o.instanceId, gauge: this.o.gauge, entries: chunk });
  }

  private publish(m: CountsMessage) {
    if (!this.closed) this.o.bus.publish(counts, m);
  }
}

/** The smallest count a key must hold to be announced: `fraction` of the cap, at least 1. */
export function announceThreshold(cap: number, fraction: number): number {
  return Math.max(1, Math.ceil(cap * fraction));
}
