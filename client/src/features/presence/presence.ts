import { useCallback, useSyncExternalStore } from 'react';
import type { PresenceEvent, PresenceMember } from '../../../../shared/presence';
import { trpcClient } from '../../trpc';

/**
 * What this tab knows of a room: `live` once its sync has come (and again after each
 * reconnect's sync), `connecting` before and while the socket is away (nothing shown then: a
 * dot from before the drop may be stale), `error` when refused. `members` only for rooms that
 * name them (conversations); counted rooms (market, discovery) have a count alone.
 */
export interface RoomPresence {
  status: 'connecting' | 'live' | 'error';
  count: number | null;
  members: ReadonlyMap<string, PresenceMember> | null;
}

const CONNECTING: RoomPresence = { status: 'connecting', count: null, members: null };

interface Room {
  state: RoomPresence;
  listeners: Set<() => void>;
  stop: () => void;
}

// One `presence.watch` per room per tab, however many components show it (the chat sidebar and
// the conversation header share a conversation's): opened with the first, stopped with the last.
const rooms = new Map<string, Room>();

function apply(s: RoomPresence, e: PresenceEvent): RoomPresence {
  switch (e.type) {
    case 'sync':
      return {
        status: 'live',
        count: e.count,
        members: 'members' in e ? new Map(e.members.map((m) => [m.userId, m])) : null,
      };
    case 'count':
      return { ...s, count: e.count };
    case 'join':
    case 'leave': {
      const members = new Map(s.members ?? []);
      if (e.type === 'join') members.set(e.member.userId, e.member);
      else members.delete(e.member.userId);
      return { ...s, count: e.count, members };
    }
  }
}

function open(name: string): Room {
  const room: Room = { state: CONNECTING, listeners: new Set(), stop: () => {} };
  const set = (next: RoomPresence) => {
    room.state = next;
    for (const l of room.listeners) l();
  };
  const sub = trpcClient.presence.watch.subscribe(
    { room: name },
    {
      onData: (e) => set(apply(room.state, e)),
      onError: () => set({ ...CONNECTING, status: 'error' }),
      // The socket went away: until the next sync, nobody is known to be here.
      onConnectionStateChange: (c) =>
        void (c.state === 'connecting' && room.state.status === 'live' && set(CONNECTING)),
    },
  );
  room.stop = () => sub.unsubscribe();
  return room;
}

function subscribe(name: string, listener: () => void): () => void {
  let room = rooms.get(name);
  if (!room) rooms.set(name, (room = open(name)));
  const r = room;
  r.listeners.add(listener);
  return () => {
    r.listeners.delete(listener);
    if (r.listeners.size > 0 || rooms.get(name) !== r) return;
    rooms.delete(name);
    r.stop();
  };
}

const noop = () => () => {};

/** The room's presence as this tab sees it; `null` watches nothing. */
export function usePresence(room: string | null): RoomPresence {
  const sub = useCallback((l: () => void) => (room ? subscribe(room, l) : () => {}), [room]);
  return useSyncExternalStore(room ? sub : noop, () => (room ? (rooms.get(room)?.state ?? CONNECTING) : CONNECTING));
}

/** Whether anyone other than `meId` is in the room: null while not known (connecting, refused). */
export function othersOnline(p: RoomPresence, meId: string): boolean | null {
  if (p.status !== 'live' || !p.members) return null;
  for (const id of p.members.keys()) if (id !== meId) return true;
  return false;
}
