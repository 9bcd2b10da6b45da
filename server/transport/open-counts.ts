/**
 * What a gauge learns from the rest of the cluster (cluster/shared-counts.ts): the other
 * instances' last announced counts per key, and this instance's changes to announce.
 */
export interface CountsShare {
  /** The sum of what the other live instances last announced for `key` (0 when none did). */
  others(key: string): number;
  /** This instance's count for `key` is now `n`. */
  changed(key: string, n: number): void;
}

/**
 * How many of something (sockets, subscriptions) are open right now, per key. A gauge, not a
 * rate: every take is paired with one release when the thing closes, whatever ends it, so
 * nothing here expires. Taking checks and counts in one synchronous step, so concurrent takes
 * (a frame of subscriptions, a burst of upgrades) each see the others' counts. Keys at zero are
 * dropped: a million one-off addresses leave nothing behind.
 *
 * Alone (PGlite: one process) the cap counts this process only. In a cluster a `share` adds
 * the other instances' announced counts to the check: not the shared rate limiters
 * (cluster/limits.ts), whose points expire under a subscription still open, but announcements
 * that lapse with the instance that made them, so a crashed instance keeps no slot. The
 * announcements leave out keys holding less than a fraction of the cap and arrive one bus round
 * trip late: SECURITY.md states the resulting bound.
 */
export class OpenCounts {
  private readonly counts = new Map<string, number>();

  constructor(
    readonly max: number,
    private readonly share?: CountsShare,
  ) {}

  /** Counts one more for `key` unless it (here plus elsewhere in the cluster) already holds `max`; false when refused. */
  tryTake(key: string): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.max || n + (this.share?.others(key) ?? 0) >= this.max) return false;
    this.counts.set(key, n + 1);
    this.share?.changed(key, n + 1);
    return true;
  }

  release(key: string) {
    const n = this.counts.get(key) ?? 0;
    if (n === 0) return;
    if (n === 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
    this.share?.changed(key, n - 1);
  }

  /** This instance's count for `key`. */
  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}
