import { and, inArray } from 'drizzle-orm';
import { BatchedRead } from '../../db/batched-read';
import type { Db } from '../../db/client';
import { chatParticipants } from '../../db/schema';
import type { LiveItem } from '../../realtime/inbox';
import { trackedEvent, type BusEvent } from '../../realtime/resumable';
import type { StreamScope } from '../../realtime/streams';
import { CHAT_FEATURE, TYPING_INTERVAL_MS, ZChatEvent, type ChatEvent } from '../../../shared/chat';
import { isResumePoint, type Notification } from '../../../shared/system';
import { participantIds, requireParticipant, type ChatDeps } from './deps';

type TypingEvent = Extract<ChatEvent, { type: 'typing' }>;

/**
 * Relays "typing" to the other participants, live only (never stored: it means nothing a
 * few seconds later). At most one per person and conversation per TYPING_INTERVAL_MS.
 */
export class TypingRelay {
  private readonly last = new Map<string, number>();

  constructor(private readonly deps: ChatDeps) {}

  async typing(caller: { id: string; name: string }, conversationId: number): Promise<{ relayed: boolean }> {
    await requireParticipant(this.deps.db, conversationId, caller.id);
    const key = `${caller.id}|${conversationId}`;
    const now = Date.now();
    if (now - (this.last.get(key) ?? 0) < TYPING_INTERVAL_MS) return { relayed: false };
    this.last.set(key, now);
    this.prune(now);
    const event: TypingEvent = { type: 'typing', conversationId, userId: caller.id, name: caller.name };
    for (const userId of await participantIds(this.deps.db, conversationId)) {
      if (userId !== caller.id)
        this.deps.inbox.publishLive(userId, { feature: CHAT_FEATURE, type: event.type, payload: event });
    }
    return { relayed: true };
  }

  // Keeps the throttle map from growing with every conversation ever typed in.
  private prune(now: number) {
    if (this.last.size < 1000) return;
    for (const [k, at] of this.last) if (now - at >= TYPING_INTERVAL_MS) this.last.delete(k);
  }
}

/** An inbox entry as a chat event; null for one this version cannot read (skipped, not fatal). */
const asChatEvent = (n: Notification | LiveItem): ChatEvent | null => {
  const parsed = ZChatEvent.safeParse(n.payload);
  return parsed.success ? parsed.data : null;
};

/** Whether these (conversation, user) pairs are participants: one query for all of them. */
async function participantPairs(db: Db, keys: string[]): Promise<Map<string, true>> {
  const pairs = keys.map((k) => k.split(' ') as [string, string]);
  const rows = await db
    .select({ conversationId: chatParticipants.conversationId, userId: chatParticipants.userId })
    .from(chatParticipants)
    .where(
      and(
        inArray(chatParticipants.conversationId, [...new Set(pairs.map(([c]) => Number(c)))]),
        inArray(chatParticipants.userId, [...new Set(pairs.map(([, u]) => u))]),
      ),
    );
  const wanted = new Set(keys);
  return new Map(
    rows
      .map((r) => `${r.conversationId} ${r.userId}`)
      .filter((k) => wanted.has(k))
      .map((k) => [k, true] as const),
  );
}
// The check runs for every event delivered to every tab: the checks asked in one turn of the event
// loop (a batch of messages reaching their tabs) are one query. Never cached: each reads after it was asked.
const participantChecks = new WeakMap<Db, BatchedRead<string, true>>();

/** Still a participant when the event is delivered, not only when it was addressed. */
async function mayReceive(deps: ChatDeps, userId: string, e: BusEvent<Notification, LiveItem>): Promise<boolean> {
  const event = asChatEvent(e.data);
  if (!event) return false;
  if (!('conversationId' in event) || event.type === 'invitation_accepted') return true;
  let check = participantChecks.get(deps.db);
  if (!check) participantChecks.set(deps.db, (check = new BatchedRead((keys) => participantPairs(deps.db, keys))));
  return (await check.get(`${event.conversationId} ${userId}`)) === true;
}

/**
 * `chat.events`: the caller's chat view of the inbox, resumable from `lastEventId`, with
 * typing mixed in live only. Stored events arrive tracked ({ id, data }), typing as { data }.
 */
export async function* chatEvents(
  deps: ChatDeps,
  opts: { userId: string; lastEventId: string | null | undefined },
  scope: StreamScope,
) {
  const { userId } = opts;
  const source = deps.inbox.featureStream(
    { ...opts, feature: CHAT_FEATURE, authorize: (e) => mayReceive(deps, userId, e) },
    scope,
  );
  for await (const e of source) {
    if ('data' in e) {
      const event = asChatEvent(e.data);
      if (event?.type === 'typing') yield { data: event };
      continue;
    }
    const [id, notification] = e;
    if (isResumePoint(notification)) {
      yield trackedEvent(id, notification);
      continue;
    }
    const event = asChatEvent(notification);
    if (event && event.type !== 'typing') yield trackedEvent(id, event);
  }
}
