import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { useTRPC } from '../../trpc';
import { ConversationView } from './ConversationView';
import { DesktopNotificationsToggle } from '../../components/DesktopNotificationsToggle';
import { CONVERSATIONS_INPUT } from './inputs';
import { useOpenConversation } from './live';
import { People } from './People';
import { ConversationList, Invitations } from './Sidebar';
import './chat.css';

/** `/chat`: people, invitations and conversations; `/chat?c=<id>` opens one beside them (alone on a phone). */
export default function ChatPage() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const openId = useOpenConversation();
  // The same query the list shows: the open conversation's participants and read markers come from it.
  const list = useInfiniteQuery(
    trpc.chat.conversations.infiniteQueryOptions(CONVERSATIONS_INPUT, { getNextPageParam: (p) => p.nextCursor }),
  );
  const meId = me.data?.id;
  if (!meId) return null;
  const open = list.data?.pages.flatMap((p) => p.items).find((c) => c.id === openId);
  return (
    <div className={`chat ${openId ? 'chat-has-open' : ''}`}>
      <aside className="chat-side">
        <People />
        <Invitations meId={meId} />
        <ConversationList meId={meId} openId={openId} />
        <DesktopNotificationsToggle what="a message arrives" />
      </aside>
      <div className="chat-main">
        {openId ? (
          <>
            <Link href="/chat" className="chat-back">
              ← All conversations
            </Link>
            <ConversationView key={openId} conversationId={openId} conversation={open} meId={meId} />
          </>
        ) : (
          <p className="muted chat-hint">Pick a conversation, or invite someone to start one.</p>
        )}
      </div>
    </div>
  );
}
