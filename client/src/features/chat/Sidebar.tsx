import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { toast } from 'sonner';
import { Link } from 'wouter';
import type { Conversation } from '../../../../shared/chat';
import { QueryState } from '../../components/QueryState';
import { useTRPC } from '../../trpc';

/** Find someone by name or e-mail and invite them, with an optional note. */
export function People() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState('');
  const [query, setQuery] = useState('');
  const [note, setNote] = useState('');
  const found = useQuery(trpc.users.search.queryOptions({ query }, { enabled: query.length > 0 }));
  const invite = useMutation(
    trpc.chat.invite.mutationOptions({
      onSuccess: () => {
        toast.success('Invitation sent.');
        setNote('');
        void queryClient.invalidateQueries(trpc.chat.invitations.pathFilter());
      },
      onError: (err) => toast.error(err.message),
    }),
  );
  const search = (e: FormEvent) => {
    e.preventDefault();
    setQuery(draft.trim());
  };
  return (
    <section className="card chat-people" data-testid="chat-people">
      <h2>Start a conversation</h2>
      <form onSubmit={search} className="chat-row">
        <input
          aria-label="Search people"
          placeholder="Name or e-mail"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          maxLength={100}
        />
        <button type="submit">Search</button>
      </form>
      <input
        aria-label="Invitation note"
        placeholder="Optional note"
        value={note}
        onChange={(e) => setNote(e.target.value)}
        maxLength={500}
      />
      {query && (
        <QueryState query={found} isEmpty={(d) => d.length === 0} empty={`Nobody matches “${query}”.`}>
          {(people) => (
            <ul className="chat-list">
              {people.map((p) => (
                <li key={p.id} className="chat-row">
                  <span className="chat-grow" title={p.email ?? undefined}>
                    {p.name}
                  </span>
                  <button
                    disabled={invite.isPending}
                    onClick={() => invite.mutate({ toUserId: p.id, message: note.trim() || undefined })}
                  >
                    Invite
                  </button>
                </li>
              ))}
            </ul>
          )}
        </QueryState>
      )}
    </section>
  );
}

export function Invitations({ meId }: { meId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.chat.invitations.queryOptions({ limit: 50 }));
  const respond = useMutation(
    trpc.chat.respond.mutationOptions({
      onSuccess: (r, v) => {
        toast(
          v.action === 'accept' ? 'Invitation accepted: the conversation is in your list.' : 'Invitation declined.',
        );
        void queryClient.invalidateQueries(trpc.chat.invitations.pathFilter());
        if (r.conversationId) void queryClient.invalidateQueries(trpc.chat.conversations.pathFilter());
      },
      onError: (err) => toast.error(err.message),
    }),
  );
  const items = list.data?.items ?? [];
  if (items.length === 0) return null;
  return (
    <section className="card" data-testid="chat-invitations">
      <h2>Invitations</h2>
      <ul className="chat-list">
        {items.map((i) =>
          i.to.id === meId ? (
            <li key={i.id} className="chat-invitation" data-testid="incoming-invitation">
              <div>
                <strong>{i.from.name}</strong> invites you{i.message && <span className="muted"> — “{i.message}”</span>}
              </div>
              <div className="chat-row">
                <button
                  className="primary"
                  disabled={respond.isPending}
                  onClick={() => respond.mutate({ invitationId: i.id, action: 'accept' })}
                >
                  Accept
                </button>
                <button
                  disabled={respond.isPending}
                  onClick={() => respond.mutate({ invitationId: i.id, action: 'reject' })}
                >
                  Reject
                </button>
              </div>
            </li>
          ) : (
            <li key={i.id} className="chat-invitation muted" data-testid="outgoing-invitation">
              Waiting for {i.to.name} to answer
            </li>
          ),
        )}
      </ul>
    </section>
  );
}

export const otherNames = (c: Conversation, meId: string) =>
  c.participants
    .filter((p) => p.id !== meId)
    .map((p) => p.name)
    .join(', ') || 'Just you';

export function ConversationList({ meId, openId }: { meId: string; openId: number | null }) {
  const trpc = useTRPC();
  const q = useInfiniteQuery(
    trpc.chat.conversations.infiniteQueryOptions({ limit: 30 }, { getNextPageParam: (p) => p.nextCursor }),
  );
  return (
    <section className="card" data-testid="chat-conversations">
      <h2>Conversations</h2>
      <QueryState
        query={q}
        isEmpty={(d) => d.pages.every((p) => p.items.length === 0)}
        empty="No conversations yet: invite someone above."
      >
        {(data) => (
          <ul className="chat-list">
            {data.pages
              .flatMap((p) => p.items)
              .map((c) => (
                <li key={c.id}>
                  <Link
                    href={`/chat?c=${c.id}`}
                    className={`chat-conversation ${c.id === openId ? 'active' : ''}`}
                    data-testid="conversation-link"
                  >
                    <span className="chat-grow">
                      <strong>{otherNames(c, meId)}</strong>
                      <span className="chat-preview muted">
                        {c.lastMessage
                          ? `${c.lastMessage.senderId === meId ? 'You: ' : ''}${c.lastMessage.content}`
                          : 'No messages yet'}
                      </span>
                    </span>
                    {c.unreadCount > 0 && (
                      <span
                        className="badge chat-unread"
                        data-testid="unread-badge"
                        aria-label={`${c.unreadCount} unread`}
                      >
                        {c.unreadCount}
                      </span>
                    )}
                  </Link>
                </li>
              ))}
          </ul>
        )}
      </QueryState>
      {q.hasNextPage && (
        <button disabled={q.isFetchingNextPage} onClick={() => void q.fetchNextPage()}>
          More conversations
        </button>
      )}
    </section>
  );
}
