import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { Fragment, useEffect, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import { toast } from 'sonner';
import { MESSAGE_MAX, TYPING_INTERVAL_MS, type Conversation } from '../../../../shared/chat';
import { useTRPC } from '../../trpc';
import { dayLabel, startsDay } from './days';
import { messagesInput } from './inputs';
import { useTyping } from './live';
import { MessageText } from './MessageText';
import { otherNames } from './names';
import { OnlineDot } from '../presence/Presence';
import { outbox, OUTBOX_MAX, useOutbox, useOutboxFull } from './outbox';
import { PendingMessage } from './PendingMessage';

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
  const history = useInfiniteQuery(
    trpc.chat.messages.infiniteQueryOptions(messagesInput(conversationId), { getNextPageParam: (p) => p.nextCursor }),
  );
  const pending = useOutbox(meId, conversationId);
  const full = useOutboxFull();
  const [draft, setDraft] = useState('');
  const typingName = useTyping(conversationId);
  const scroller = useRef<HTMLDivElement>(null);
  const top = useRef<HTMLDivElement>(null);
  const fromBottom = useRef(0);
  const lastTyping = useRef(0);
  const marked = useRef(0);

  const messages = (history.data?.pages ?? []).flatMap((p) => p.items).reverse();
  // An entry whose message is already shown (its answer or `new_message` came first) is not shown twice.
  const delivered = new Set(messages.map((m) => m.clientId));
  const waiting = pending.filter((p) => !delivered.has(p.clientId));

  const typing = useMutation(trpc.chat.typing.mutationOptions());
  const markRead = useMutation(
    trpc.chat.markRead.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries(trpc.chat.conversations.pathFilter()),
    }),
  );

  // Every message goes through the outbox (outbox-send.ts sends it), online or not: a send
  // whose answer never comes is tried again with the same clientId instead of being lost.
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const content = draft.trim();
    if (!content || full) return;
    fromBottom.current = 0;
    // Cleared at once, so what is typed next is not wiped when the write lands; a message the
    // full outbox would not keep comes back into the box.
    setDraft('');
    const keep = async () => {
      try {
        return await outbox.add({ userId: meId, conversationId, content });
      } catch (err) {
        toast.error(`This browser could not keep the message: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      }
    };
    void keep().then((kept) => kept || setDraft((d) => d || content));
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
      <div className="chat-heading">
        <h2>{conversation ? otherNames(conversation, meId) : `Conversation ${conversationId}`}</h2>
        <OnlineDot
          conversationId={conversationId}
          meId={meId}
          name={conversation ? otherNames(conversation, meId) : 'The other person'}
          withLabel
        />
      </div>
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
        {messages.map((m, i) => (
          <Fragment key={m.id}>
            {startsDay(m.createdAt, messages[i - 1]?.createdAt) && (
              <div className="chat-day muted" role="separator" data-testid="day-separator">
                {dayLabel(m.createdAt)}
              </div>
            )}
            <div className={`chat-message ${m.senderId === meId ? 'mine' : ''}`} data-testid="chat-message">
              <MessageText content={m.content} />
              <span className="chat-meta">
                {time(m.createdAt)}
                {m.id === lastSeenMine && <span data-testid="read-receipt"> · Seen</span>}
              </span>
            </div>
          </Fragment>
        ))}
        {waiting.map((p) => (
          <PendingMessage key={p.clientId} entry={p} />
        ))}
      </div>
      <p className="chat-typing muted" data-testid="typing" aria-live="polite">
        {typingName ? `${typingName} is typing…` : ' '}
      </p>
      {full && (
        <p className="error" role="alert" data-testid="outbox-full">
          {OUTBOX_MAX} messages are waiting to be sent from this browser: no more can be kept until they are sent or
          discarded.
        </p>
      )}
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
        <button className="primary" type="submit" disabled={!draft.trim() || full}>
          Send
        </button>
      </form>
    </section>
  );
}
