/** Who holds a place in a group (a presence room): an id and a name to show. */
export interface MemberInfo {
  id: string;
  name: string;
}
/** A member as the cluster sees it: `since` (ms) is the earliest of its still-open entries anywhere. */
export interface Member extends MemberInfo {
  since: number;
}
export interface MembershipChange {
  type: 'join' | 'leave';
  member: Member;
  /** The group's distinct members after this change. */
  count: number;
}
type Holding = { name: string; since: number };

/**
 * Every member of every group with the instances holding it (this one included): a member joins
 * with its first holder and leaves with its last, and the listeners of its group hear each.
 * Nothing is kept for a group without members or a listener.
 */
export class MembershipIndex {
  private readonly groups = new Map<string, Map<string, Map<string, Holding>>>();
  private readonly listeners = new Map<string, Set<(change: MembershipChange) => void>>();

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  add(key: string, id: string, instance: string, info: Holding) {
    let users = this.groups.get(key);
    if (!users) this.groups.set(key, (users = new Map()));
    let holders = users.get(id);
    const joined = !holders;
    if (!holders) users.set(id, (holders = new Map()));
    holders.set(instance, { name: info.name, since: info.since });
    if (joined) this.emit(key, { type: 'join', member: memberOf(id, holders), count: users.size });
  }

  remove(key: string, id: string, instance: string) {
    const users = this.groups.get(key);
    const holders = users?.get(id);
    if (!users || !holders?.has(instance)) return;
    const member = memberOf(id, holders);
    holders.delete(instance);
    if (holders.size > 0) return;
    users.delete(id);
    if (users.size === 0) this.groups.delete(key);
    this.emit(key, { type: 'leave', member, count: users.size });
  }

  count(key: string): number {
    return this.groups.get(key)?.size ?? 0;
  }

  /** Up to `limit` members, the longest present first. */
  members(key: string, limit: number): Member[] {
    const users = this.groups.get(key);
    if (!users) return [];
    return [...users]
      .map(([id, holders]) => memberOf(id, holders))
      .sort((a, b) => a.since - b.since || (a.id < b.id ? -1 : 1))
      .slice(0, limit);
  }

  listen(key: string, listener: (change: MembershipChange) => void): () => void {
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key);
    };
  }

  sizes() {
    return { keys: this.groups.size, listenedKeys: this.listeners.size };
  }

  private emit(key: string, change: MembershipChange) {
    const set = this.listeners.get(key);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(change);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}

function memberOf(id: string, holders: Map<string, Holding>): Member {
  let name = '';
  let since = Infinity;
  for (const h of holders.values()) {
    if (h.since < since) since = h.since;
    name ||= h.name;
  }
  return { id, name, since };
}
