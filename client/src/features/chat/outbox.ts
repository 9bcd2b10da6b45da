import { useSyncExternalStore } from 'react';
import { deleteEntry, getEntry, listEntries, putEntry, type OutboxEntry } from './outbox-db';

export type { OutboxEntry } from './outbox-db';

/** At most this many unsent messages wait in one browser; writing more is refused until some go. */
export const OUTBOX_MAX = 200;

// Every message is written here first and sent from here (outbox-send.ts). The entries live in
// IndexedDB, shared by every tab of this browser; a tab that changes them tells the others over
// a BroadcastChannel, and each tab keeps a snapshot for React.
const channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel('hubcast-outbox');
let entries: OutboxEntry[] = [];
const listeners = new Set<() => void>();

async function reload() {
  try {
    entries = await listEntries();
  } catch {
    // Storage failed under us (cleared, quota): the last snapshot stays; the next change reads again.
    return;
  }
  for (const l of listeners) l();
}
channel?.addEventListener('message', () => void reload());
void reload();

async function changed() {
  await reload();
  channel?.postMessage('changed');
}

export const outbox = {
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  entries: () => entries,

  /** Keeps a new message; false when the outbox is full (the message is not kept). */
  async add(entry: Omit<OutboxEntry, 'clientId' | 'createdAt' | 'error'>): Promise<boolean> {
    if ((await listEntries()).length >= OUTBOX_MAX) return false;
    await putEntry({ ...entry, clientId: crypto.randomUUID(), createdAt: Date.now(), error: null });
    await changed();
    return true;
  },

  /** The server stored it (its answer, or its `new_message` in any tab): it leaves the outbox. */
  async settle(clientId: string) {
    if (!(await getEntry(clientId))) return;
    await deleteEntry(clientId);
    await changed();
  },

  async refuse(clientId: string, error: string) {
    const entry = await getEntry(clientId);
    if (!entry) return;
    await putEntry({ ...entry, error });
    await changed();
  },

  /** Back in the queue with the same clientId, so a try that did reach the server stores nothing new. */
  async retry(clientId: string) {
    const entry = await getEntry(clientId);
    if (!entry) return;
    await putEntry({ ...entry, error: null });
    await changed();
  },

  discard: (clientId: string) => outbox.settle(clientId),
};

/** The signed-in person's unsent messages in one conversation, oldest first. */
export function useOutbox(userId: string, conversationId: number): OutboxEntry[] {
  const all = useSyncExternalStore(outbox.subscribe, outbox.entries);
  return all.filter((e) => e.userId === userId && e.conversationId === conversationId);
}

export function useOutboxFull(): boolean {
  return useSyncExternalStore(outbox.subscribe, outbox.entries).length >= OUTBOX_MAX;
}
