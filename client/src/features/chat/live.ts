import { useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useSyncExternalStore } from 'react';
import { toast } from 'sonner';
import { useLocation, useSearch } from 'wouter';
import { TYPING_INTERVAL_MS, type ChatEvent, type Message } from '../../../../shared/chat';
import { isResumePoint } from '../../../../shared/system';
import { useTRPC } from '../../trpc';

export const MESSAGES_PAGE = 30;
export const messagesInput = (conversationId: number) => ({ conversationId, limit: MESSAGES_PAGE });

/** The conversation open on the chat page (`/chat?c=12`), so toasts skip what is on screen. */
export function useOpenConversation(): number | null {
  const [location] = useLocation();
  const search = useSearch();
  const id = Number(new URLSearchParams(search).get('c'));
  return location.startsWith('/chat') && Number.isSafeInteger(id) && id > 0 ? id : null;
}

// Who is typing where (the name, by conversation): a tiny store outside React, shared by the
// stream and the page. An entry lapses by its own timer, so rendering never reads the clock.
type Typing = Record<number, string>;
let typing: Typing = {};
const lapses = new Map<number, ReturnType<typeof setTimeout>>();
const listeners = new Set<() => void>();
const setTyping = (next: Typing) => {
  typing = next;
  for (const l of listeners) l();
};
const subscribeTyping = (l: () => void) => (listeners.add(l), () => void listeners.delete(l));

export function useTyping(conversationId: number | null): string | null {
  const state = useSyncExternalStore(subscribeTyping, () => typing);
  return (conversationId === null ? undefined : state[conversationId]) ?? null;
}

function startTyping(conversationId: number, name: string) {
  setTyping({ ...typing, [conversationId]: name });
  // Each typing event restarts the timer: the indicator stays while the events keep coming.
  clearTimeout(lapses.get(conversationId));
  lapses.set(
    conversationId,
    setTimeout(() => stopTyping(conversationId), TYPING_INTERVAL_MS + 1500),
  );
}

function stopTyping(conversationId: number) {
  clearTimeout(lapses.get(conversationId));
  lapses.delete(conversationId);
  if (typing[conversationId] === undefined) return;
  const next = { ...typing };
  delete next[conversationId];
  setTyping(next);
}

type Page = { items: Message[]; nextCursor: number | null };

/** Adds a message to the newest page of a loaded history, once. */
export function addToHistory(data: InfiniteData<Page> | undefined, message: Message): InfiniteData<Page> | undefined {
  if (!data || data.pages.some((p) => p.items.some((m) => m.id === message.id))) return data;
  const [first, ...rest] = data.pages;
  return { ...data, pages: [{ ...first!, items: [message, ...first!.items] }, ...rest] };
}

/**
 * The one `chat.events` subscription of the app (mounted in the shell): keeps the chat
 * caches current, feeds the typing store and toasts messages from conversations not on
 * screen. It resumes from its last event id after a reconnect, so nothing is missed.
 */
export function ChatLive() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  const open = useOpenConversation();

  const refreshLists = () => {
    void queryClient.invalidateQueries(trpc.chat.conversations.pathFilter());
    void queryClient.invalidateQueries(trpc.chat.invitations.pathFilter());
  };

  const onEvent = (e: ChatEvent) => {
    if (e.type === 'typing') {
      startTyping(e.conversationId, e.name);
      return;
    }
    if (e.type === 'new_message') {
      const key = trpc.chat.messages.infiniteQueryKey(messagesInput(e.conversationId));
      queryClient.setQueryData<InfiniteData<Page>>(key, (d) => addToHistory(d, e.message));
      if (e.message.senderId !== me.data?.id) {
        stopTyping(e.conversationId);
        if (e.conversationId !== open || document.hidden)
          toast(e.message.content.slice(0, 140), { description: 'New chat message', id: `chat-${e.message.id}` });
      }
    }
    refreshLists();
  };

  useSubscription(
    trpc.chat.events.subscriptionOptions(undefined, {
      enabled: Boolean(me.data),
      onData: (d) => void (isResumePoint(d.data) || onEvent(d.data)),
    }),
  );
  return null;
}
