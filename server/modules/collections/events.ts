import type { Inbox } from '../../realtime/inbox';
import type { Tx } from '../../realtime/record';
import { COLLECTIONS_FEATURE, type CollectionEvent } from '../../../shared/collections';

export type Emit = (
  userId: string,
  event: CollectionEvent | { type: string; payload: { message: string } & Record<string, unknown> },
) => void;

/** Inbox.withEvents with the collections feature on every event `work` emits. */
export async function withEvents<T>(deps: { inbox: Inbox }, work: (tx: Tx, emit: Emit) => Promise<T>): Promise<T> {
  const { result } = await deps.inbox.withEvents((tx, emit) =>
    work(tx, (userId, e) => emit({ userId, feature: COLLECTIONS_FEATURE, type: e.type, payload: e.payload })),
  );
  return result;
}
