import { useInfiniteQuery, useMutation, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import { MESSAGE_MAX, TYPING_INTERVAL_MS, type Conversation, type Message } from '../../../../shared/chat';
import { useTRPC } from '../../trpc';
import { addToHistory, messagesInput, useTyping } from './live';
import { otherNames } from './Sidebar';

interface Pending {
  clientId: string;
  content: string;
  error: string | null;
}

type Page = { items: Message[]; nextCursor: number | null };
const time = (d: Date) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export function ConversationView({
  conversationId,
  conversation,
  meId,
}: {
  conversationId: number;
  conversation: Conversation | undefined;
  meId: string;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const key = trpc.chat.messages.infiniteQueryKey(messagesInput(conversationId));
  const history = useInfiniteQuery(
    trpc.chat.messages.infiniteQueryOptions(messagesInput(conversationId), { getNextPageParam: (p) => p.nextCursor }),
  );
  const [pending, setPending] = useState<Pending[]>([]);
  const [draft, setDraft] = useState('');
  const typingName = useTyping(conversationId);
  const scroller = useRef<HTMLDivElement>(null);
  const top = useRef<HTMLDivElement>(null);
  const fromBottom = useRef(0);
  const lastTyping = useRef(0);
  const marked = useRef(0);

  const messages = (history.data?.pages ?? []).flatMap((p) => p.items).reverse();
  const delivered = new Set(messages.map((m) => m.clientId));
  const waiting = pending.filter((p) => !delivered.has(p.clientId));

  const send = useMutation(trpc.chat.send.mutationOptions());
  const typing = useMutation(trpc.chat.typing.mutationOptions());
  const markRead = useMutation(
    trpc.chat.markRead.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries(trpc.chat.conversations.pathFilter()),
    }),
  );

  // The same clientId on a retry: the server stores the message once however often we try.
  const deliver = async (p: Pending) => {
    setPending((all) => all.map((x) => (x.clientId === p.clientId ? { ...x, error: null } : x)));
    try {
      const { message } = await send.mutateAsync({ conversationId, content: p.content, clientId: p.clientId });
      queryClient.setQueryData<InfiniteData<Page>>(key, (d) => addToHistory(d, message));
      setPending((all) => all.filter((x) => x.clientId !== p.clientId));
    } catch (err) {
      setPending((all) =>
        all.map((x) =>
          x.clientId === p.clientId ? { ...x, error: err instanceof Error ? err.message : 'Not sent.' } : x,
        ),
      );
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const content = draft.trim();
    if (!content) return;
    const p = { clientId: crypto.randomUUID(), content, error: null };
    setPending((all) => [...all, p]);
    setDraft('');
    fromBottom.current = 0;
    void deliver(p);
  };

  const onDraft = (value: string) => {
    setDraft(value);
    const now = Date.now();
    if (value.trim() && now - lastTyping.current > TYPING_INTERVAL_MS) {
      lastTyping.current = now;
      typing.mutate({ conversationId });
    }
  };

  // Reading is seeing: the newest message from someone else moves our read marker, once the tab is in view.
  const [, seen] = useState(0);
  useEffect(() => {
    const onVisible = () => seen((n) => n + 1);
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, []);
  const newestFromOthers = [...messages].reverse().find((m) => m.senderId !== meId);
  const myMarker = conversation?.participants.find((p) => p.id === meId)?.lastReadMessageId ?? 0;
  useEffect(() => {
    const id = newestFromOthers?.id;
    if (!id || id <= myMarker || id <= marked.current || document.hidden) return;
    marked.current = id;
    markRead.mutate({ conversationId, messageId: id });
  });

  // Older pages load when the top comes into view; the view stays where the reader was.
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = history;
  useEffect(() => {
    const el = top.current;
    if (!el) return;
    const io = new IntersectionObserver(([entry]) => {
      if (!entry?.isIntersecting || !hasNextPage || isFetchingNextPage) return;
      void fetchNextPage();
    });
    io.observe(el);
    return () => io.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  useLayoutEffect(() => {
    const s = scroller.current;
    if (s) s.scrollTop = s.scrollHeight - s.clientHeight - fromBottom.current;
  }, [messages.length, waiting.length]);
  const onScroll = () => {
    const s = scroller.current;
    if (s) fromBottom.current = s.scrollHeight - s.clientHeight - s.scrollTop;
  };

  const seenUpTo = Math.max(
    0,
    ...(conversation?.participants.filter((p) => p.id !== meId).map((p) => p.lastReadMessageId ?? 0) ?? []),
  );
  const lastSeenMine = [...messages].reverse().find((m) => m.senderId === meId && m.id <= seenUpTo)?.id;

  return (
    <section className="card chat-conversation-view" data-testid="chat-conversation">
      <h2>{conversation ? otherNames(conversation, meId) : `Conversation ${conversationId}`}</h2>
      <div className="chat-messages" ref={scroller} onScroll={onScroll} data-testid="chat-messages">
        <div ref={top} className="chat-top muted">
          {history.isFetchingNextPage
            ? 'Loading older messages…'
            : history.hasNextPage
              ? ''
              : history.isPending
                ? 'Loading…'
                : 'Start of the conversation'}
        </div>
        {history.isError && <p className="error">{history.error.message}</p>}
        {messages.map((m) => (
          <div key={m.id} className={`chat-message ${m.senderId === meId ? 'mine' : ''}`} data-testid="chat-message">
            <p>{m.content}</p>
            <span className="chat-meta">
              {time(m.createdAt)}
              {m.id === lastSeenMine && <span data-testid="read-receipt"> · Seen</span>}
            </span>
          </div>
        ))}
        {waiting.map((p) => (
          <div
            key={p.clientId}
            className={`chat-message mine pending ${p.error ? 'failed' : ''}`}
            data-testid="chat-pending"
          >
            <p>{p.content}</p>
            <span className="chat-meta">
              {p.error ? (
                <>
                  Not sent: {p.error}{' '}
                  <button className="link" onClick={() => void deliver(p)}>
                    Retry
                  </button>
                </>
              ) : (
                'Sending…'
              )}
            </span>
          </div>
        ))}
      </div>
      <p className="chat-typing muted" data-testid="typing" aria-live="polite">
        {typingName ? `${typingName} is typing…` : ' '}
      </p>
      <form className="chat-row chat-composer" onSubmit={submit}>
        <textarea
          aria-label="Message"
          rows={2}
          value={draft}
          maxLength={MESSAGE_MAX}
          onChange={(e) => onDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) submit(e);
          }}
          placeholder="Write a message"
        />
        <button className="primary" type="submit" disabled={!draft.trim()}>
          Send
        </button>
      </form>
    </section>
  );
}
