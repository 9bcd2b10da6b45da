import { useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { useEffect } from 'react';
import type { Message } from '../../../../shared/chat';
import { serverAnswered } from '../../server-answer';
import { realtimeState, useTRPC, useTRPCClient } from '../../trpc';
import { messagesInput } from './inputs';
import { addToHistory, type Page } from './history';
import { outbox, type OutboxEntry } from './outbox';
import { getEntry, listEntries } from './outbox-db';

/** A send with no answer by then is given up and tried again later (same clientId: stored once). */
const SEND_TIMEOUT_MS = 15_000;
const backoffMs = (failures: number) => Math.min(1_000 * 2 ** failures, 30_000);

/**
 * The server's refusal in words, or null when there was no answer (no connection, a socket cut
 * mid-flight, a timeout): that entry stays queued and is tried again, never dropped.
 */
const refusal = (err: unknown): string | null => (serverAnswered(err) ? err.message : null);

type Send = (entry: OutboxEntry, signal: AbortSignal) => Promise<Message>;

/** Sends this person's queued messages in the order they were written; stops at the first with no answer. */
async function sendQueued(userId: string, send: Send, onSent: (m: Message) => void): Promise<'done' | 'unreachable'> {
  for (const queued of await listEntries()) {
    if (queued.userId !== userId || queued.error) continue;
    // Read again: another tab may have sent or discarded it while this one waited for the lock.
    const entry = await getEntry(queued.clientId);
    if (!entry || entry.error) continue;
    try {
      onSent(await send(entry, AbortSignal.timeout(SEND_TIMEOUT_MS)));
      await outbox.settle(entry.clientId);
    } catch (err) {
      const why = refusal(err);
      if (why === null) return 'unreachable';
      await outbox.refuse(entry.clientId, why);
    }
  }
  return 'done';
}

// One tab of the browser sends at a time, so two tabs do not send one entry side by side (the
// server would store it once anyway, by its clientId; this saves the second request).
function oneTabAtATime<T>(fn: () => Promise<T>): Promise<T> {
  // The DOM typings call the callback's promise the result; the lock resolves with its value.
  return 'locks' in navigator ? navigator.locks.request('hubcast-outbox-send', fn).then<T>((r) => r) : fn();
}

/**
 * Mounted once in the shell: sends the outbox whenever it has something to send, when the
 * realtime connection comes back, and on a backoff while the server cannot be reached.
 */
export function useOutboxSender(userId: string | undefined) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();

  useEffect(() => {
    if (!userId) return;
    const send: Send = async (e, signal) =>
      (
        await client.chat.send.mutate(
          { conversationId: e.conversationId, content: e.content, clientId: e.clientId },
          { signal },
        )
      ).message;
    const onSent = (m: Message) =>
      queryClient.setQueryData<InfiniteData<Page>>(
        trpc.chat.messages.infiniteQueryKey(messagesInput(m.conversationId)),
        (d) => addToHistory(d, m),
      );

    let running = false;
    let again = false;
    let stopped = false;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = async () => {
      if (running) return void (again = true);
      running = true;
      clearTimeout(timer);
      let result: 'done' | 'unreachable';
      try {
        do {
          again = false;
          result = await oneTabAtATime(() => sendQueued(userId, send, onSent));
        } while (again && !stopped && result === 'done');
      } catch {
        // IndexedDB failed under us (storage cleared, quota): treated as a miss, tried again later.
        result = 'unreachable';
      } finally {
        running = false;
      }
      if (stopped) return;
      failures = result === 'done' ? 0 : failures + 1;
      if (result === 'unreachable') timer = setTimeout(() => void flush(), backoffMs(failures));
    };
    const waiting = () => outbox.entries().some((e) => e.userId === userId && !e.error);

    const unsubscribeOutbox = outbox.subscribe(() => void (waiting() && flush()));
    const unsubscribeRealtime = realtimeState.subscribe((s) => void (s === 'pending' && flush()));
    const onOnline = () => void flush();
    window.addEventListener('online', onOnline);
    void flush();
    return () => {
      stopped = true;
      clearTimeout(timer);
      unsubscribeOutbox();
      unsubscribeRealtime();
      window.removeEventListener('online', onOnline);
    };
  }, [userId, client, queryClient, trpc]);
}
