import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useTRPC } from '../../trpc';
import { CONVERSATIONS_INPUT } from './inputs';

/**
 * Unread messages over the loaded conversation list (the cache entry the chat page shows, kept
 * current by `ChatLive`). A conversation with news moves to the top, so the first page holds it.
 */
export function useUnreadTotal(): number {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const list = useInfiniteQuery(
    trpc.chat.conversations.infiniteQueryOptions(CONVERSATIONS_INPUT, {
      enabled: Boolean(me.data),
      getNextPageParam: (p) => p.nextCursor,
    }),
  );
  return (list.data?.pages ?? []).reduce((n, p) => n + p.items.reduce((m, c) => m + c.unreadCount, 0), 0);
}

const TITLE = 'Hubcast';

/** The tab's title carries the unread count, so a tab in the background still says "(3) Hubcast". */
export function useUnreadTitle() {
  const unread = useUnreadTotal();
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) ${TITLE}` : TITLE;
  }, [unread]);
}
