import type { Db } from '../../db/client';
import type { Inbox, InboxItem } from '../../realtime/inbox';
import { COLLECTIONS_FEATURE, type CollectionEvent } from '../../../shared/collections';

export type Emit = (userId: string, event: CollectionEvent | { type: string; payload: { message: string } & Record<string, unknown> }) => void;

/**
 * Runs `work` in one transaction whose events are recorded in the inbox inside it and
 * published only after it commits: a rolled-back change is never announced, and a client
 * replaying from the table finds every event it was sent live.
 */
export async function withEvents<T>(deps: { db: Db; inbox: Inbox }, work: (tx: Db, emit: Emit) => Promise<T>): Promise<T> {
  const { result, stored } = await deps.db.transaction(async (tx) => {
    const items: InboxItem[] = [];
    const result = await work(tx, (userId, e) => void items.push({ userId, feature: COLLECTIONS_FEATURE, type: e.type, payload: e.payload }));
    return { result, stored: await deps.inbox.record(tx, items) };
  });
  deps.inbox.publish(stored);
  return result;
}
