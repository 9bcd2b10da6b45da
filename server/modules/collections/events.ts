import type { Inbox, InboxItem } from '../../realtime/inbox';
import type { StreamLog, Tx } from '../../realtime/record';
import { COLLECTIONS_FEATURE, type CollectionEvent } from '../../../shared/collections';

export type Emit = (
  userId: string,
  event: CollectionEvent | { type: string; payload: { message: string } & Record<string, unknown> },
) => void;

/**
 * `work` runs in one transaction and says what happened through `emit`; the events are
 * recorded in the inbox last, inside that transaction (so its stream locks are held only
 * for the commit), and published after it commits: a rolled-back change is never announced.
 */
export async function withEvents<T>(
  deps: { streams: StreamLog; inbox: Inbox },
  work: (tx: Tx, emit: Emit) => Promise<T>,
): Promise<T> {
  const { result } = await deps.streams.recordThenPublish(
    [],
    async (tx) => {
      const items: InboxItem[] = [];
      const result = await work(
        tx,
        (userId, e) => void items.push({ userId, feature: COLLECTIONS_FEATURE, type: e.type, payload: e.payload }),
      );
      return { result, stored: await deps.inbox.record(tx, items) };
    },
    ({ stored }) => deps.inbox.publish(stored),
  );
  return result;
}
