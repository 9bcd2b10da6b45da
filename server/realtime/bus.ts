/**
 * A typed channel name. The phantom type ties publishers and subscribers of one channel
 * to one payload type without a central registry.
 */
export interface Topic<T> {
  readonly name: string;
  readonly _payload?: T;
}
export const topic = <T>(name: string): Topic<T> => ({ name });

export interface BusStats {
  kind: 'memory' | 'postgres' | 'redis';
  channels: number;
  handlers: number;
  published: number;
  delivered: number;
}

/**
 * How events reach subscribers. Today one process (PGlite or a single instance); the
 * cross-instance implementation (LISTEN/NOTIFY or Redis) keeps this interface, which is why
 * payloads must stay small and serialisable and why subscribers must tolerate duplicates
 * (the resumable stream drops anything at or below the last id it sent).
 */
export interface EventBus {
  publish<T>(topic: Topic<T>, payload: T): void;
  subscribe<T>(topic: Topic<T>, handler: (payload: T) => void): () => void;
  stats(): BusStats;
  close(): Promise<void>;
}

export function createMemoryBus(onHandlerError: (err: unknown) => void): EventBus {
  const handlers = new Map<string, Set<(payload: unknown) => void>>();
  let published = 0;
  let delivered = 0;
  return {
    publish(t, payload) {
      published++;
      const set = handlers.get(t.name);
      if (!set) return;
      // Copy: a handler may unsubscribe (or subscribe) while we iterate.
      for (const h of [...set]) {
        try {
          h(payload);
          delivered++;
        } catch (err) {
          onHandlerError(err);
        }
      }
    },
    subscribe(t, handler) {
      let set = handlers.get(t.name);
      if (!set) handlers.set(t.name, (set = new Set()));
      const h = handler as (payload: unknown) => void;
      set.add(h);
      return () => {
        set.delete(h);
        if (set.size === 0) handlers.delete(t.name);
      };
    },
    stats() {
      let count = 0;
      for (const s of handlers.values()) count += s.size;
      return { kind: 'memory', channels: handlers.size, handlers: count, published, delivered };
    },
    async close() {
      handlers.clear();
    },
  };
}
