import { tracked, type TrackedEnvelope } from '@trpc/server';
import { and, eq } from 'drizzle-orm';
import { chatParticipants } from '../../db/schema';
import { topic } from '../../realtime/bus';
import { BoundedQueue } from '../../realtime/queue';
import { asStreamError } from '../../realtime/resumable';
import { CHAT_FEATURE, TYPING_INTERVAL_MS, ZChatEvent, type ChatEvent } from '../../../shared/chat';
import type { Notification } from '../../../shared/system';
import { participantIds, requireParticipant, type ChatDeps } from './deps';

type TypingEvent = Extract<ChatEvent, { type: 'typing' }>;
const typingTopic = (userId: string) => topic<TypingEvent>(`chat-typing:${userId}`);

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
      if (userId !== caller.id) this.deps.bus.publish(typingTopic(userId), event);
    }
    return { relayed: true };
  }

  subscribe(userId: string, push: (e: TypingEvent) => void) {
    return this.deps.bus.subscribe(typingTopic(userId), push);
  }

  // Keeps the throttle map from growing with every conversation ever typed in.
  private prune(now: number) {
    if (this.last.size < 1000) return;
    for (const [k, at] of this.last) if (now - at >= TYPING_INTERVAL_MS) this.last.delete(k);
  }
}

/** Still a participant when the event is delivered, not only when it was addressed. */
async function mayReceive(deps: ChatDeps, userId: string, event: ChatEvent): Promise<boolean> {
  if (!('conversationId' in event) || event.type === 'invitation_accepted') return true;
  const [row] = await deps.db
    .select({ userId: chatParticipants.userId })
    .from(chatParticipants)
    .where(and(eq(chatParticipants.conversationId, event.conversationId), eq(chatParticipants.userId, userId)))
    .limit(1);
  return row !== undefined;
}

type Item = { stored: TrackedEnvelope<Notification> } | { typing: TypingEvent } | { end: true };

/**
 * `chat.events`: the caller's chat entries of the inbox (resumable from `lastEventId`) with
 * live-only typing events mixed in. Both feed one bounded queue, so a slow reader is cut
 * off (and resumes) instead of growing the process.
 */
export async function* chatEvents(deps: ChatDeps, typing: TypingRelay, opts: { userId: string; lastEventId: string | null | undefined; signal: AbortSignal | undefined }) {
  const { userId, signal } = opts;
  const merged = new BoundedQueue<Item>(1000);
  const stopTyping = typing.subscribe(userId, (e) => merged.push({ typing: e }));
  const stored = deps.inbox.stream({ userId, lastEventId: opts.lastEventId, signal, feature: CHAT_FEATURE });
  void (async () => {
    for await (const envelope of stored) merged.push({ stored: envelope });
    merged.push({ end: true });
  })().catch((err: unknown) => merged.fail(err instanceof Error ? err : new Error(String(err))));
  try {
    for (;;) {
      const item = await merged.next(signal);
      if (item === null || 'end' in item) return;
      if ('typing' in item) {
        if (await mayReceive(deps, userId, item.typing)) yield item.typing;
        continue;
      }
      const [id, notification] = item.stored;
      const parsed = ZChatEvent.safeParse(notification.payload);
      // An entry this version cannot read is skipped, not fatal: the stream must go on.
      if (!parsed.success || parsed.data.type === 'typing') continue;
      if (await mayReceive(deps, userId, parsed.data)) yield tracked(id, parsed.data);
    }
  } catch (err) {
    throw asStreamError(err);
  } finally {
    stopTyping();
    void stored.return(undefined);
  }
}
