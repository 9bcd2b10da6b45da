import { ABORTED, untilAborted } from '../../abort';
import type { ClusterMembership } from '../../cluster/membership';
import { guarded } from '../../guarded';
import type { Logger } from '../../log';
import { COUNT_INTERVAL_MS } from '../../../shared/presence';

/** Joins and leaves waiting for one slow reader before it is sent a fresh `sync` instead. */
const QUEUE_MAX = 100;

/**
 * What one subscription has still to send: the joins and leaves of its room in order (past
 * QUEUE_MAX, none of them but a fresh sync), or the room's latest count. The producer never
 * waits; the reader awaits `next`.
 */
export class Pending<T> {
  private items: T[] = [];
  /** Too much was waiting: the reader is to start over from a sync. */
  resync = false;
  count: number | null = null;
  private wake: (() => void) | null = null;

  push(item: T) {
    if (this.resync) return;
    if (this.items.length >= QUEUE_MAX) {
      this.items = [];
      this.resync = true;
    } else this.items.push(item);
    this.poke();
  }

  setCount(n: number) {
    this.count = n;
    this.poke();
  }

  /** Whatever is waiting (taking it), after waiting for something if nothing is; null once `signal` aborts. */
  async next(signal: AbortSignal | undefined): Promise<{ items: T[]; resync: boolean; count: number | null } | null> {
    while (!this.resync && this.items.length === 0 && this.count === null) {
      const woken = new Promise<void>((resolve) => (this.wake = resolve));
      if ((signal ? await untilAborted(woken, signal) : await woken) === ABORTED) return null;
    }
    if (signal?.aborted) return null;
    const taken = { items: this.items, resync: this.resync, count: this.count };
    this.items = [];
    this.resync = false;
    this.count = null;
    return taken;
  }

  private poke() {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

/**
 * The counted rooms watched on this instance: one membership listener per room however many
 * watch it here, and its count sent to them at most once per COUNT_INTERVAL_MS (a busy chart's
 * comings and goings are one update, not one per person).
 */
export class CountedRooms {
  private readonly rooms = new Map<
    string,
    { watchers: Set<(n: number) => void>; stop: () => void; timer: NodeJS.Timeout | null }
  >();

  constructor(
    private readonly membership: ClusterMembership,
    private readonly log: Logger,
  ) {}

  /** Calls `onCount` with the room's count after it changes; returns the detach. */
  watch(key: string, onCount: (n: number) => void): () => void {
    let room = this.rooms.get(key);
    if (!room) {
      const entry: { watchers: Set<(n: number) => void>; stop: () => void; timer: NodeJS.Timeout | null } = {
        watchers: new Set(),
        timer: null,
        stop: () => {},
      };
      entry.stop = this.membership.listen(key, () => {
        entry.timer ??= setTimeout(
          guarded(this.log, 'presence count', () => {
            entry.timer = null;
            const n = this.membership.count(key);
            for (const w of entry.watchers) w(n);
          }),
          COUNT_INTERVAL_MS,
        );
      });
      this.rooms.set(key, (room = entry));
    }
    const r = room;
    r.watchers.add(onCount);
    return () => {
      r.watchers.delete(onCount);
      if (r.watchers.size > 0 || this.rooms.get(key) !== r) return;
      r.stop();
      if (r.timer) clearTimeout(r.timer);
      this.rooms.delete(key);
    };
  }

  /** Rooms with a watcher here (bounded by the watchers: none is kept once its last goes). */
  size() {
    return this.rooms.size;
  }
}
