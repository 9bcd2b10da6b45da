import { z } from 'zod';
import { TIMEFRAMES, type Timeframe } from './market';

/**
 * Presence: who is watching a room right now. A room is named by a string:
 *
 * - `conversation:<id>`: a chat conversation. Only its participants may watch it (anyone else is
 *   told NOT_FOUND, as by every chat procedure); its events name the members.
 * - `market:<SYMBOL>:<tf>` (a chart, e.g. `market:BTCUSDT:1m`) and `discovery` (the discovery
 *   page): open to everyone signed in; their events carry a count only, never a name or an id.
 *
 * A member is a person, not a tab: one user in a room once however many tabs or instances they
 * watch it from; `since` is when their first still-open watch began.
 */

/** Distinct rooms one person may be in at once on one instance (all their tabs together). */
export const MAX_ROOMS_PER_USER = 50;
/** Members a `sync` lists at most (the oldest first); `count` is still the room's whole size. */
export const SYNC_MEMBERS_MAX = 100;
/** A counted room's size goes out at most this often (changes in between are sent as one). */
export const COUNT_INTERVAL_MS = 250;

const ROOM_HINT = 'A room is conversation:<id>, market:<SYMBOL>:<timeframe> (like market:BTCUSDT:1m) or discovery.';

export type Room =
  | { kind: 'conversation'; conversationId: number }
  | { kind: 'market'; symbol: string; timeframe: Timeframe }
  | { kind: 'discovery' };

/** The room's canonical name (what `watch` accepts and what the client keys its state by). */
export function roomName(room: Room): string {
  switch (room.kind) {
    case 'conversation':
      return `conversation:${room.conversationId}`;
    case 'market':
      return `market:${room.symbol}:${room.timeframe}`;
    case 'discovery':
      return 'discovery';
  }
}

/** Whether the room's events name its members (conversations) or only count them (everything else). */
export const namesMembers = (room: Room) => room.kind === 'conversation';

/** The reason `text` is not a room, or the room it names. */
export function parseRoom(text: string): Room | { error: string } {
  const [kind, ...rest] = text.split(':');
  if (kind === 'discovery')
    return rest.length === 0 ? { kind } : { error: `The discovery room takes nothing after its name. ${ROOM_HINT}` };
  if (kind === 'conversation') {
    const id = rest.length === 1 && /^[1-9]\d{0,14}$/.test(rest[0]!) ? Number(rest[0]) : NaN;
    if (!Number.isSafeInteger(id))
      return { error: 'A conversation room is conversation:<id>, with the conversation id (a positive whole number).' };
    return { kind, conversationId: id };
  }
  if (kind === 'market') {
    const [symbol, timeframe] = rest;
    if (rest.length !== 2 || !symbol || !timeframe)
      return { error: 'A market room is market:<SYMBOL>:<timeframe>, like market:BTCUSDT:1m.' };
    const upper = symbol.toUpperCase();
    if (!/^[A-Z0-9]{5,20}$/.test(upper))
      return { error: 'A market room\u2019s symbol is 5 to 20 letters or digits, like BTCUSDT.' };
    if (!(TIMEFRAMES as readonly string[]).includes(timeframe))
      return { error: `A market room\u2019s timeframe must be one of ${TIMEFRAMES.join(', ')}.` };
    return { kind, symbol: upper, timeframe: timeframe as Timeframe };
  }
  return { error: `No such room. ${ROOM_HINT}` };
}

/** A room name, checked and parsed: bad input is refused with a sentence saying what a room looks like. */
export const ZRoom = z
  .string({ error: `Give a room. ${ROOM_HINT}` })
  .min(1, { error: `Give a room. ${ROOM_HINT}` })
  .max(60, { error: `Room names are at most 60 characters. ${ROOM_HINT}` })
  .transform((text, ctx): Room => {
    const room = parseRoom(text);
    if ('error' in room) {
      ctx.issues.push({ code: 'custom', message: room.error, input: text });
      return z.NEVER;
    }
    return room;
  });

export const ZWatchInput = z.object({ room: ZRoom });
export type WatchInput = z.input<typeof ZWatchInput>;

export const ZPresenceMember = z.object({ userId: z.string(), name: z.string(), since: z.coerce.date() });
export type PresenceMember = z.infer<typeof ZPresenceMember>;

/**
 * What `presence.watch` sends. The first message is always a `sync`; then, in a room that names
 * its members (a conversation), `join` and `leave` as people come and go, each with the new
 * count; in a counted room (market, discovery), `count` whenever the number changes (at most once
 * per COUNT_INTERVAL_MS). `count` is always the number of distinct people, the caller included.
 */
export const ZMembersSync = z.object({
  type: z.literal('sync'),
  count: z.number(),
  /** At most SYNC_MEMBERS_MAX, the longest present first; `truncated` says some were left out. */
  members: z.array(ZPresenceMember),
  truncated: z.boolean(),
});
export const ZCountSync = z.object({ type: z.literal('sync'), count: z.number() });
export const ZPresenceJoin = z.object({ type: z.literal('join'), member: ZPresenceMember, count: z.number() });
export const ZPresenceLeave = z.object({ type: z.literal('leave'), member: ZPresenceMember, count: z.number() });
export const ZPresenceCount = z.object({ type: z.literal('count'), count: z.number() });

/** Events of a room that names its members (`conversation:<id>`). */
export const ZMembersEvent = z.union([ZMembersSync, ZPresenceJoin, ZPresenceLeave]);
/** Events of a counted room (`market:…`, `discovery`): no name, no id, only how many. */
export const ZCountEvent = z.union([ZCountSync, ZPresenceCount]);
export const ZPresenceEvent = z.union([ZMembersEvent, ZCountEvent]);

export type MembersEvent = z.infer<typeof ZMembersEvent>;
export type CountEvent = z.infer<typeof ZCountEvent>;
export type PresenceEvent = z.infer<typeof ZPresenceEvent>;

/** A `sync` that lists members (a conversation room), as opposed to a counted room's. */
export const isMembersSync = (e: PresenceEvent): e is z.infer<typeof ZMembersSync> =>
  e.type === 'sync' && 'members' in e;
