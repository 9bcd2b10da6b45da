import { randomUUID } from 'node:crypto';
import { and, eq, inArray, or } from 'drizzle-orm';
import { AppError } from '../../errors';
import { chatConversations, chatMessages, chatParticipants } from '../../db/schema';
import type { Message } from '../../../shared/chat';
import { chatItems, conversationNotFound, SEND_LIMIT, tooManySends, type ChatDeps } from './deps';
import { toMessage } from './messages';

export interface SendInput {
  conversationId: number;
  content: string;
  clientId?: string;
}

interface Queued {
  callerId: string;
  input: SendInput & { clientId: string };
  settle: (outcome: Outcome | { failed: unknown }) => void;
}

type Outcome = { message: Message } | { refused: AppError };

/** Sends in one transaction at most; a burst is several. */
const BATCH_MAX = 200;
/** Sends waiting for their turn on this instance; past it a send is refused at once, not queued. */
const QUEUE_MAX = 5_000;
/** One person's sends waiting here: a flood is refused before it is queued, not after. */
const QUEUED_PER_SENDER = SEND_LIMIT.points;

/**
 * chat.send's path: the sends that arrive while a transaction is writing others go together in
 * the next one (group commit). One message costs a handful of statements and a commit when the
 * server is quiet, and a share of them when it is busy: per message, 9 statements in a row held
 * a pooled connection each while the next sender waited on the first one's locks, which capped
 * a busy server at a few hundred messages a second (issue #21, `npm run bench:chat`).
 * Everything a single send guarantees holds per message: counted against SEND_LIMIT first
 * (refusals included), only a participant's, one message per clientId, events in commit order.
 */
export class SendQueue {
  private queue: Queued[] = [];
  private readonly queuedBy = new Map<string, number>();
  private running = false;

  constructor(private readonly deps: ChatDeps) {}

  async send(callerId: string, input: SendInput): Promise<{ message: Message }> {
    const early = await this.deps.sendLimiter.before(callerId);
    if (!early.ok) throw tooManySends(early.waitSeconds);
    const mine = this.queuedBy.get(callerId) ?? 0;
    if (mine >= QUEUED_PER_SENDER) throw tooManySends(1);
    if (this.queue.length >= QUEUE_MAX)
      throw new AppError('TOO_MANY_REQUESTS', 'The server is busy sending messages: try again in a few seconds.');
    this.queuedBy.set(callerId, mine + 1);
    const outcome = await new Promise<Outcome | { failed: unknown }>((settle) => {
      this.queue.push({ callerId, input: { ...input, clientId: input.clientId ?? randomUUID() }, settle });
      if (!this.running) void this.drain();
    }).finally(() => {
      const left = this.queuedBy.get(callerId)! - 1;
      if (left > 0) this.queuedBy.set(callerId, left);
      else this.queuedBy.delete(callerId);
    });
    if ('failed' in outcome) throw outcome.failed;
    if ('refused' in outcome) throw outcome.refused;
    return outcome;
  }

  private async drain() {
    this.running = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, BATCH_MAX);
        try {
          const outcomes = await this.write(batch);
          batch.forEach((q, i) => q.settle(outcomes[i]!));
        } catch (err) {
          if (batch.length === 1) {
            batch[0]!.settle({ failed: err });
            continue;
          }
          // One send's failure (a conversation deleted meanwhile) must not fail the others: alone,
          // each fails or succeeds by itself.
          for (const q of batch)
            await this.write([q]).then(
              ([outcome]) => q.settle(outcome!),
              (failed: unknown) => q.settle({ failed }),
            );
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** One transaction for the whole batch; an outcome per send, in order. */
  private async write(batch: Queued[]): Promise<Outcome[]> {
    const { inbox, sendLimiter } = this.deps;
    const { result } = await inbox.withEvents(async (tx, emit) => {
      const outcomes: (Outcome | null)[] = batch.map(() => null);
      const taken = await sendLimiter.within(
        tx,
        batch.map((q) => q.callerId),
      );
      // One read is every sender's check and every conversation's addressees.
      const conversationIds = [...new Set(batch.map((q) => q.input.conversationId))];
      const members = new Map<number, string[]>();
      for (const p of await tx
        .select({ conversationId: chatParticipants.conversationId, userId: chatParticipants.userId })
        .from(chatParticipants)
        .where(inArray(chatParticipants.conversationId, conversationIds)))
        members.set(p.conversationId, [...(members.get(p.conversationId) ?? []), p.userId]);
      const writing: number[] = [];
      batch.forEach((q, i) => {
        const t = taken[i]!;
        if (!t.ok) outcomes[i] = { refused: tooManySends(t.waitSeconds) };
        else if (!members.get(q.input.conversationId)?.includes(q.callerId))
          outcomes[i] = { refused: conversationNotFound(q.input.conversationId) };
        else writing.push(i);
      });
      if (writing.length === 0) return outcomes as Outcome[];

      const key = (senderId: string, clientId: string) => `${senderId}\u0000${clientId}`;
      const inserted = await tx
        .insert(chatMessages)
        .values(
          writing.map((i) => {
            const { callerId, input } = batch[i]!;
            return {
              conversationId: input.conversationId,
              senderId: callerId,
              content: input.content,
              clientId: input.clientId,
            };
          }),
        )
        .onConflictDoNothing({ target: [chatMessages.senderId, chatMessages.clientId] })
        .returning();
      const created = new Map(inserted.map((r) => [key(r.senderId, r.clientId), r]));
      // A retried send (its clientId already stored, maybe by a send in this very batch) gets the stored message.
      const retried = writing.filter((i) => !created.has(key(batch[i]!.callerId, batch[i]!.input.clientId)));
      const stored = new Map(
        (retried.length
          ? await tx
              .select()
              .from(chatMessages)
              .where(
                or(
                  ...retried.map((i) =>
                    and(
                      eq(chatMessages.senderId, batch[i]!.callerId),
                      eq(chatMessages.clientId, batch[i]!.input.clientId),
                    ),
                  ),
                ),
              )
          : []
        ).map((r) => [key(r.senderId, r.clientId), r]),
      );
      const announced = new Set<string>();
      for (const i of writing) {
        const { callerId, input } = batch[i]!;
        const k = key(callerId, input.clientId);
        const row = created.get(k) ?? stored.get(k);
        if (!row) throw new Error('chat.send: a message neither inserted nor found');
        if (row.conversationId !== input.conversationId) {
          outcomes[i] = {
            refused: new AppError(
              'BAD_REQUEST',
              'This clientId already belongs to another message: use a new one for each message.',
            ),
          };
          continue;
        }
        const message = toMessage(row);
        outcomes[i] = { message };
        if (!created.has(k) || announced.has(k)) continue;
        announced.add(k);
        chatItems(members.get(input.conversationId)!, {
          type: 'new_message',
          conversationId: input.conversationId,
          message,
        }).forEach(emit);
      }
      if (inserted.length)
        await tx
          .update(chatConversations)
          .set({ lastActivityAt: inserted[0]!.createdAt })
          .where(inArray(chatConversations.id, [...new Set(inserted.map((r) => r.conversationId))]));
      return outcomes as Outcome[];
    });
    return result;
  }
}
