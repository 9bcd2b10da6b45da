/** One message written in this browser and not yet stored by the server. */
export interface OutboxEntry {
  /** Made when the message is written and kept for every try: the server stores it once. */
  clientId: string;
  /** Whose message it is: only that person's tabs show or send it. */
  userId: string;
  conversationId: number;
  content: string;
  createdAt: number;
  /** Why the server refused it, in words; null while it waits to be sent. */
  error: string | null;
}

const DB = 'hubcast';
const STORE = 'outbox';

// Plain IndexedDB (no wrapper is installed): one object store keyed by clientId. A browser that
// refuses IndexedDB (some private modes) gets a map in memory: the outbox works, minus reloads.
let opened: Promise<IDBDatabase | null> | null = null;
const memory = new Map<string, OutboxEntry>();

function open(): Promise<IDBDatabase | null> {
  opened ??= new Promise((resolve) => {
    if (typeof indexedDB === 'undefined') return resolve(null);
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'clientId' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => resolve(null);
    req.onblocked = () => resolve(null);
  });
  return opened;
}

function run<T>(mode: IDBTransactionMode, op: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return open().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        if (!db) return reject(new Error('no IndexedDB'));
        const tx = db.transaction(STORE, mode);
        const req = op(tx.objectStore(STORE));
        // Resolved once the transaction commits: another tab reading after our broadcast sees it.
        tx.oncomplete = () => resolve(req.result);
        tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
        tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
      }),
  );
}

const usable = async () => (await open()) !== null;

export async function listEntries(): Promise<OutboxEntry[]> {
  const all = (await usable())
    ? await run('readonly', (s) => s.getAll() as IDBRequest<OutboxEntry[]>)
    : [...memory.values()];
  return all.sort((a, b) => a.createdAt - b.createdAt);
}

export async function getEntry(clientId: string): Promise<OutboxEntry | undefined> {
  if (!(await usable())) return memory.get(clientId);
  return run('readonly', (s) => s.get(clientId) as IDBRequest<OutboxEntry | undefined>);
}

export async function putEntry(entry: OutboxEntry): Promise<void> {
  if (!(await usable())) return void memory.set(entry.clientId, entry);
  await run('readwrite', (s) => s.put(entry));
}

export async function deleteEntry(clientId: string): Promise<void> {
  if (!(await usable())) return void memory.delete(clientId);
  await run('readwrite', (s) => s.delete(clientId));
}
