import type { Logger } from '../log';
import { topic, type EventBus } from '../realtime/bus';
import { failureReporter, guarded } from '../guarded';
import { MembershipIndex, type MemberInfo, type MembershipChange } from './membership-index';
import { chunks, type Change, type DistributiveOmit, type Entry, type Head, type Message } from './membership-wire';

export type { Member, MemberInfo, MembershipChange } from './membership-index';

export interface MembershipOptions {
  bus: EventBus;
  log: Logger;
  instanceId: string;
  /** Names this membership's messages on the bus (several may share one bus). */
  name: string;
  /** False on one process (PGlite): nothing is announced, nothing is heard. */
  shared: boolean;
  /** Each instance's heartbeat period; an instance silent for three periods is dropped with its members. */
  periodMs: number;
  /** Distinct keys one member may hold at once on this instance (`enter` answers null past it). */
  maxKeysPerMember: number;
}

interface Remote {
  epoch: string;
  /** The sequence number of its last change message we applied (or of the snapshot that replaced them). */
  seq: number;
  heardAt: number;
  askedAt: number;
  /** What it holds, to drop when it goes: per key, the member ids. */
  held: Map<string, Set<string>>;
  /** A snapshot being received, until its last part. */
  pending: Entry[] | null;
}

/**
 * Who is in which group, over the whole cluster, as SharedCounts shares counts: each instance
 * announces its own entries as they change (a join on A reaches B one bus hop later), repeats
 * one heartbeat per period (one message per instance, however many members: the cost grows
 * with changes, not with members × time), and drops an instance heard from for three periods
 * with every member it held. A member held on several instances, or by several entries (tabs)
 * on one, is one member: it joins with its first entry anywhere and leaves with its last.
 *
 * Change messages are numbered per instance. A heartbeat carries the last number sent, so a
 * receiver that missed one (its listener was down) or came late (it just started) asks that
 * instance for a snapshot of what it holds, which replaces whatever it had heard from it.
 */
export class ClusterMembership {
  /** Every member of every group, by holding instance (this one included). */
  private readonly index: MembershipIndex;
  /** This instance's entries: per key, per member, how many handles hold it. */
  private readonly local = new Map<string, Map<string, { name: string; since: number; holds: number }>>();
  private readonly keysOf = new Map<string, number>();
  private readonly remotes = new Map<string, Remote>();
  private readonly epoch = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  private readonly topic;
  private seq = 0;
  private dirty: Change[] = [];
  private flushing: NodeJS.Immediate | null = null;
  private snapshotting: NodeJS.Immediate | null = null;
  private readonly timer: NodeJS.Timeout | null = null;
  private readonly stops: (() => void)[] = [];
  private closed = false;

  constructor(private readonly o: MembershipOptions) {
    this.index = new MembershipIndex(failureReporter(o.log, 'membership listener'));
    this.topic = topic<Message>(`cluster:membership:${o.name}`);
    if (!o.shared) return;
    // Another instance's message runs this: whatever it makes throw stays here.
    const onMessage = guarded(o.log, 'membership message', (m: Message) => this.onMessage(m));
    this.stops.push(
      o.bus.subscribe(this.topic, onMessage),
      // Whatever was said while our listener was down never arrived: ask everyone again.
      o.bus.onMissed(guarded(o.log, 'membership resync', () => this.publish({ kind: 'ask', of: null }))),
    );
    this.timer = setInterval(
      guarded(o.log, 'membership heartbeat', () => {
        this.flush();
        this.publish({ kind: 'beat', seq: this.seq });
        this.prune();
      }),
      o.periodMs,
    );
    this.timer.unref();
    this.publish({ kind: 'ask', of: null });
  }

  /**
   * One more entry of `member` in `key` (a tab watching a room). Null when the member already
   * holds `maxKeysPerMember` other keys here. The returned function ends this entry (once).
   */
  enter(key: string, member: MemberInfo): (() => void) | null {
    let mine = this.local.get(key)?.get(member.id);
    if (!mine) {
      const held = this.keysOf.get(member.id) ?? 0;
      if (held >= this.o.maxKeysPerMember) return null;
      this.keysOf.set(member.id, held + 1);
      let users = this.local.get(key);
      if (!users) this.local.set(key, (users = new Map()));
      mine = { name: member.name, since: Date.now(), holds: 0 };
      users.set(member.id, mine);
      this.index.add(key, member.id, this.o.instanceId, mine);
      this.announce(['+', key, member.id, mine.name, mine.since]);
    }
    const entry = mine;
    entry.holds++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      if (--entry.holds > 0) return;
      const users = this.local.get(key);
      users?.delete(member.id);
      if (users?.size === 0) this.local.delete(key);
      const held = (this.keysOf.get(member.id) ?? 1) - 1;
      if (held > 0) this.keysOf.set(member.id, held);
      else this.keysOf.delete(member.id);
      this.index.remove(key, member.id, this.o.instanceId);
      this.announce(['-', key, member.id]);
    };
  }

  /** The group's distinct members over the cluster. */
  count(key: string): number {
    return this.index.count(key);
  }

  /** Up to `limit` members, the longest present first. */
  members(key: string, limit: number) {
    return this.index.members(key, limit);
  }

  /** Calls `listener` on every join and leave in `key` (synchronously); returns the unsubscribe. */
  listen(key: string, listener: (change: MembershipChange) => void): () => void {
    return this.index.listen(key, listener);
  }

  /** Sizes, for stats and for tests that check nothing outlives its members. */
  sizes() {
    return {
      ...this.index.sizes(),
      localKeys: this.local.size,
      localMembers: this.keysOf.size,
      instances: this.remotes.size,
    };
  }

  /** Stops announcing; `goodbye` tells the others at once (a shutdown), without it they wait three periods (a crash). */
  close({ goodbye = true }: { goodbye?: boolean } = {}) {
    if (this.closed) return;
    if (goodbye) this.publish({ kind: 'bye' });
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.flushing) clearImmediate(this.flushing);
    if (this.snapshotting) clearImmediate(this.snapshotting);
    for (const stop of this.stops) stop();
    this.remotes.clear();
  }

  // --- what this instance tells the others ------------------------------------------------------

  private announce(change: Change) {
    if (!this.o.shared || this.closed) return;
    this.dirty.push(change);
    this.flushing ??= setImmediate(guarded(this.o.log, 'membership change', () => this.flush()));
  }

  /** Sends the changes made since the last flush, numbered, in messages of about MESSAGE_BYTES. */
  private flush() {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
    const changes = this.dirty;
    this.dirty = [];
    for (const part of chunks(changes, (c) => c[1].length + c[2].length + (c[3]?.length ?? 0)))
      this.publish({ kind: 'changes', seq: ++this.seq, changes: part });
  }

  /** Everything this instance holds, at its current number (answering asks made in the same turn once). */
  private snapshotSoon() {
    this.snapshotting ??= setImmediate(
      guarded(this.o.log, 'membership snapshot', () => {
        this.snapshotting = null;
        this.flush();
        const entries: Entry[] = [];
        for (const [key, users] of this.local) for (const [id, e] of users) entries.push([key, id, e.name, e.since]);
        const parts = chunks(entries, (e) => e[0].length + e[1].length + e[2].length);
        if (parts.length === 0) parts.push([]);
        parts.forEach((part, i) =>
          this.publish({
            kind: 'snapshot',
            seq: this.seq,
            entries: part,
            first: i === 0,
            last: i === parts.length - 1,
          }),
        );
      }),
    );
  }

  private publish(m: DistributiveOmit<Message, keyof Head>) {
    if (!this.o.shared || this.closed) return;
    this.o.bus.publish(this.topic, { ...m, instance: this.o.instanceId, epoch: this.epoch } as Message);
  }

  // --- what the others tell this instance -------------------------------------------------------

  private onMessage(m: Message) {
    if (this.closed || m.instance === this.o.instanceId) return;
    let r = this.remotes.get(m.instance);
    // Restarted under the same name: what the old process held went with it.
    if (r && r.epoch !== m.epoch) {
      this.drop(m.instance);
      r = undefined;
    }
    if (m.kind === 'bye') return void (r && this.drop(m.instance));
    if (!r) {
      r = { epoch: m.epoch, seq: 0, heardAt: 0, askedAt: 0, held: new Map(), pending: null };
      this.remotes.set(m.instance, r);
    }
    r.heardAt = Date.now();
    switch (m.kind) {
      case 'ask':
        if (m.of === null || m.of === this.o.instanceId) this.snapshotSoon();
        return;
      case 'beat':
        if (m.seq !== r.seq) this.askFor(m.instance, r);
        return;
      case 'changes':
        // A gap: something was missed. Apply this anyway, and ask for the whole picture.
        if (m.seq !== r.seq + 1) this.askFor(m.instance, r);
        r.seq = m.seq;
        for (const c of list(m.changes)) {
          if (c[0] === '+') this.hold(m.instance, r, c[1], c[2], { name: c[3], since: c[4] });
          else if (c[0] === '-') this.release(m.instance, r, c[1], c[2]);
        }
        return;
      case 'snapshot':
        return this.receiveSnapshot(m.instance, r, m);
    }
  }

  private receiveSnapshot(instance: string, r: Remote, m: Extract<Message, { kind: 'snapshot' }>) {
    if (m.first) r.pending = [];
    // Its first part was missed: the next snapshot will do.
    if (!r.pending) return;
    for (const e of list(m.entries)) r.pending.push(e);
    if (!m.last) return;
    const next = new Map<string, Map<string, { name: string; since: number }>>();
    for (const [key, id, name, since] of r.pending) {
      let users = next.get(key);
      if (!users) next.set(key, (users = new Map()));
      users.set(id, { name, since });
    }
    r.pending = null;
    for (const [key, ids] of [...r.held])
      for (const id of [...ids]) if (!next.get(key)?.has(id)) this.release(instance, r, key, id);
    for (const [key, users] of next) for (const [id, info] of users) this.hold(instance, r, key, id, info);
    r.seq = m.seq;
  }

  private hold(instance: string, r: Remote, key: string, id: string, info: { name: string; since: number }) {
    if (
      typeof key !== 'string' ||
      typeof id !== 'string' ||
      typeof info.name !== 'string' ||
      !Number.isFinite(info.since)
    )
      return;
    let ids = r.held.get(key);
    if (!ids) r.held.set(key, (ids = new Set()));
    ids.add(id);
    this.index.add(key, id, instance, info);
  }

  private release(instance: string, r: Remote, key: string, id: string) {
    const ids = r.held.get(key);
    ids?.delete(id);
    if (ids?.size === 0) r.held.delete(key);
    this.index.remove(key, id, instance);
  }

  /** Asks one instance for its snapshot, at most once a period. */
  private askFor(instance: string, r: Remote) {
    const now = Date.now();
    if (now - r.askedAt < this.o.periodMs) return;
    r.askedAt = now;
    this.publish({ kind: 'ask', of: instance });
  }

  /** Forgets an instance and every member it held (they leave unless held elsewhere). */
  private drop(instance: string) {
    const r = this.remotes.get(instance);
    if (!r) return;
    this.remotes.delete(instance);
    for (const [key, ids] of r.held) for (const id of ids) this.index.remove(key, id, instance);
  }

  /** Drops every instance not heard from for three periods (crashed, cut off). */
  private prune() {
    const lapsed = Date.now() - 3 * this.o.periodMs;
    for (const [instance, r] of [...this.remotes]) if (r.heardAt < lapsed) this.drop(instance);
  }
}

/** A message's list, or none if what came is not one (a message is from our own code, but a bus is a wire). */
const list = <T>(value: T[]): T[] => (Array.isArray(value) ? value.filter((item) => Array.isArray(item)) : []);
