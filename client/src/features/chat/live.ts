import { useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useSyncExternalStore } from 'react';
import { useLocation, useSearch } from 'wouter';
import { TYPING_INTERVAL_MS, type ChatEvent, type Conversation } from '../../../../shared/chat';
import { isResumePoint } from '../../../../shared/system';
import { useTRPC } from '../../trpc';
import { notifyDesktop } from '../../desktop';
import { addToHistory, type Page } from './history';
import { CONVERSATIONS_INPUT, messagesInput } from './inputs';
import { messageHeading, toastMessage } from './MessageToast';
import { outbox } from './outbox';
import { useOutboxSender } from './outbox-send';
import { useUnreadTitle } from './unread';

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
  const [, navigate] = useLocation();
  // Holds the conversation list on every page: the title counts its unread messages, and a
  // toast names the sender and the conversation from it.
  useUnreadTitle();
  useOutboxSender(me.data?.id);
  const findConversation = (id: number): Conversation | undefined =>
    queryClient
      .getQueryData(trpc.chat.conversations.infiniteQueryKey(CONVERSATIONS_INPUT))
      ?.pages.flatMap((p) => p.items)
      .find((c) => c.id === id);

  const refreshLists = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.chat.conversations.pathFilter()),
      queryClient.invalidateQueries(trpc.chat.invitations.pathFilter()),
      // An answered invitation turns a search result's "Invitation pending" into "Open conversation".
      queryClient.invalidateQueries(trpc.chat.relations.pathFilter()),
    ]);

  const onEvent = async (e: ChatEvent) => {
    if (e.type === 'typing') {
      startTyping(e.conversationId, e.name);
      return;
    }
    const refreshed = refreshLists();
    if (e.type !== 'new_message') return;
    const key = trpc.chat.messages.infiniteQueryKey(messagesInput(e.conversationId));
    queryClient.setQueryData<InfiniteData<Page>>(key, (d) => addToHistory(d, e.message));
    const meId = me.data?.id;
    // Ours, from this tab or another: stored, so it leaves the outbox (nothing to send again).
    if (meId && e.message.senderId === meId) void outbox.settle(e.message.clientId);
    if (!meId || e.message.senderId === meId) return;
    stopTyping(e.conversationId);
    if (e.conversationId === open && !document.hidden) return;
    // A conversation new to this tab (just accepted elsewhere) is named once the list has it.
    if (!findConversation(e.conversationId)) await refreshed;
    const heading = messageHeading(e.message, findConversation(e.conversationId), meId);
    const openConversation = (id: number) => navigate(`/chat?c=${id}`);
    toastMessage({ message: e.message, heading, openConversation });
    notifyDesktop({
      title: heading,
      body: e.message.content.slice(0, 140),
      tag: `chat-${e.message.id}`,
      onClick: () => openConversation(e.conversationId),
    });
  };

  useSubscription(
    trpc.chat.events.subscriptionOptions(undefined, {
      enabled: Boolean(me.data),
      onData: (d) => void (isResumePoint(d.data) || onEvent(d.data)),
    }),
  );
  return null;
}
