import type { ClusterMembership, Member, MembershipChange } from '../../cluster/membership';
import { AppError } from '../../errors';
import type { Logger } from '../../log';
import type { StreamScope } from '../../realtime/streams';
import type { SessionUser } from '../../../shared/auth';
import {
  MAX_ROOMS_PER_USER,
  namesMembers,
  roomName,
  SYNC_MEMBERS_MAX,
  type PresenceEvent,
  type PresenceMember,
  type Room,
} from '../../../shared/presence';
import { CountedRooms, Pending } from './watch';

export interface PresenceDeps {
  /** Who is in which room over the whole cluster (cluster/membership.ts). */
  membership: ClusterMembership;
  /** Refuses (NOT_FOUND) a conversation the user is not in: the chat service's own check. */
  requireParticipant(userId: string, conversationId: number): Promise<unknown>;
  log: Logger;
}

type Caller = Pick<SessionUser, 'id' | 'name'>;

const tooManyRooms = () =>
  new AppError(
    'TOO_MANY_REQUESTS',
    `You are in too many rooms at once (at most ${MAX_ROOMS_PER_USER}): close some tabs or views, then try again.`,
  );

const toMember = (m: Member): PresenceMember => ({ userId: m.id, name: m.name, since: new Date(m.since) });

/**
 * Presence: who watches a room now. Watching is being there: a subscription enters its room
 * for as long as it is open. Conversation rooms name their members (to participants only);
 * market and discovery rooms send a count only, and their entries carry no name at all.
 */
export class PresenceService {
  private readonly counted: CountedRooms;

  constructor(private readonly deps: PresenceDeps) {
    this.counted = new CountedRooms(deps.membership, deps.log);
  }

  /**
   * `presence.watch`: checked before the stream starts (a room the caller may not watch is an
   * error, not a stream that never speaks), then the room's events until the subscription ends.
   */
  async watch(caller: Caller, room: Room, scope: StreamScope): Promise<AsyncGenerator<PresenceEvent>> {
    if (room.kind === 'conversation') await this.deps.requireParticipant(caller.id, room.conversationId);
    return this.stream(caller, room, scope);
  }

  /** Sizes, so tests can check that nothing outlives the subscriptions. */
  sizes() {
    return { ...this.deps.membership.sizes(), countedRooms: this.counted.size() };
  }

  // Entered inside the generator: one that is never iterated (stopped before it started) never
  // enters, and one that is ends in `finally`, whatever ends it.
  private async *stream(caller: Caller, room: Room, scope: StreamScope): AsyncGenerator<PresenceEvent> {
    const { membership } = this.deps;
    const key = roomName(room);
    const named = namesMembers(room);
    const signal = scope.sessionSignal ?? scope.requestSignal;
    // A counted room never shows a name: none is stored for it, here or on the other instances.
    const leave = membership.enter(key, { id: caller.id, name: named ? caller.name : '' });
    if (!leave) throw tooManyRooms();
    const pending = new Pending<MembershipChange>();
    const detach = named
      ? membership.listen(key, (change) => pending.push(change))
      : this.counted.watch(key, (n) => pending.setCount(n));
    try {
      let sent = membership.count(key);
      yield named ? this.membersSync(key) : { type: 'sync', count: sent };
      for (;;) {
        const next = await pending.next(signal);
        if (next === null) return;
        if (next.resync) {
          sent = membership.count(key);
          yield this.membersSync(key);
          continue;
        }
        for (const c of next.items) yield { type: c.type, member: toMember(c.member), count: c.count };
        if (next.count !== null && next.count !== sent) yield { type: 'count', count: (sent = next.count) };
      }
    } finally {
      detach();
      leave();
    }
  }

  private membersSync(key: string): PresenceEvent {
    const { membership } = this.deps;
    const count = membership.count(key);
    const members = membership.members(key, SYNC_MEMBERS_MAX).map(toMember);
    return { type: 'sync', count, members, truncated: members.length < count };
  }
}
