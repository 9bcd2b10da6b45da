import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { toast } from 'sonner';
import { Link } from 'wouter';
import { QueryState } from '../../components/QueryState';
import { OnlineDot } from '../presence/Presence';
import { useTRPC } from '../../trpc';
import { CONVERSATIONS_INPUT } from './inputs';
import { otherNames } from './names';

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

/**
 * Conversations whose dot is shown (the most recent first): each is one room watched by this tab,
 * and a person's rooms are bounded (MAX_ROOMS_PER_USER), with room left for a chart and discovery.
 */
const DOTS_MAX = 30;

export function ConversationList({ meId, openId }: { meId: string; openId: number | null }) {
  const trpc = useTRPC();
  const q = useInfiniteQuery(
    trpc.chat.conversations.infiniteQueryOptions(CONVERSATIONS_INPUT, { getNextPageParam: (p) => p.nextCursor }),
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
              .map((c, i) => (
                <li key={c.id}>
                  <Link
                    href={`/chat?c=${c.id}`}
                    className={`chat-conversation ${c.id === openId ? 'active' : ''}`}
                    data-testid="conversation-link"
                  >
                    {i < DOTS_MAX && <OnlineDot conversationId={c.id} meId={meId} name={otherNames(c, meId)} />}
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
