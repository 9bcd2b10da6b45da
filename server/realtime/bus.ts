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
  /** Cross-instance buses: messages received from the broker, and how long the last one took to arrive (ms). */
  received?: number;
  lagMs?: number | null;
  maxLagMs?: number;
  /** Times the listening connection was re-established: live events sent meanwhile were not received. */
  reconnects?: number;
}

/** A publish made inside `recordThenPublish`'s callback, held until its transaction is about to commit. */
export interface HeldPublish {
  topic: Topic<unknown>;
  payload: unknown;
}

/** The transaction a held publish may write to (drizzle's `execute`); kept minimal so bus.ts needs no db types. */
export interface BusTx {
  execute(query: import('drizzle-orm').SQL): Promise<unknown>;
}

/**
 * How events reach subscribers: in one process (memory, PGlite) or across instances
 * (server/cluster: Postgres LISTEN/NOTIFY or Redis pub/sub). Payloads must be serialisable
 * (superjson) and subscribers must tolerate duplicates (the resumable stream drops anything
 * at or below the last id it sent).
 */
export interface EventBus {
  /** Delivers now; inside `capturePublishes` it is held instead (see record.ts). */
  publish<T>(topic: Topic<T>, payload: T): void;
  /**
   * Runs `fn` (synchronously) and returns the publishes it made on this bus instead of
   * delivering them. `recordThenPublish` uses it so publishing can be ordered with the commit
   * without changing the callers, which keep calling `bus.publish`.
   */
  capturePublishes(fn: () => void): HeldPublish[];
  /**
   * Held publishes of one transaction, just before it commits (under its stream locks): a
   * cross-instance bus sends them here, so every instance receives a stream's events in commit order.
   */
  beforeCommit(tx: BusTx, held: HeldPublish[]): Promise<void>;
  /** The same publishes after the commit, in the stream's publish order: the memory bus delivers them now. */
  afterCommit(held: HeldPublish[]): void;
  subscribe<T>(topic: Topic<T>, handler: (payload: T) => void): () => void;
  /**
   * Called when live events may have been missed: a cross-instance bus's listening connection
   * came back after a drop. Stored events are not lost (they are rows), so subscribers must
   * resume from their last id; the in-process bus never misses anything.
   */
  onMissed(listener: () => void): () => void;
  stats(): BusStats;
  close(): Promise<void>;
}

/** For bus implementations: the publishes held while a `capturePublishes` callback runs, one per bus. */
export class PublishHold {
  private holding: HeldPublish[] | null = null;

  capture(fn: () => void): HeldPublish[] {
    const outer = this.holding;
    const mine: HeldPublish[] = [];
    this.holding = mine;
    try {
      fn();
    } finally {
      this.holding = outer;
    }
    return mine;
  }

  /** True when this publish was held (inside `capture`). */
  hold(t: Topic<unknown>, payload: unknown): boolean {
    if (!this.holding) return false;
    this.holding.push({ topic: t, payload });
    return true;
  }
}

/**
 * The local half every bus shares: handlers per topic name, called synchronously. A handler
 * that throws, or returns a promise that rejects (an async handler), is reported and does not
 * stop the others: a rejection left unhandled would end the process.
 */
export class LocalHandlers {
  private readonly handlers = new Map<string, Set<(payload: unknown) => void>>();
  delivered = 0;
  constructor(private readonly onHandlerError: (err: unknown) => void) {}

  deliver(name: string, payload: unknown) {
    const set = this.handlers.get(name);
    if (!set) return;
    // Copy: a handler may unsubscribe (or subscribe) while we iterate.
    for (const h of [...set]) {
      try {
        const r: unknown = h(payload);
        if (r && typeof (r as Promise<unknown>).then === 'function')
          (r as Promise<unknown>).then(undefined, this.onHandlerError);
        this.delivered++;
      } catch (err) {
        this.onHandlerError(err);
      }
    }
  }

  add(name: string, handler: (payload: unknown) => void): () => void {
    let set = this.handlers.get(name);
    if (!set) this.handlers.set(name, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0) this.handlers.delete(name);
    };
  }

  counts() {
    let handlers = 0;
    for (const s of this.handlers.values()) handlers += s.size;
    return { channels: this.handlers.size, handlers, delivered: this.delivered };
  }

  clear() {
    this.handlers.clear();
  }
}

export function createMemoryBus(onHandlerError: (err: unknown) => void): EventBus {
  const local = new LocalHandlers(onHandlerError);
  const hold = new PublishHold();
  let published = 0;
  const bus: EventBus = {
    publish(t, payload) {
      if (hold.hold(t, payload)) return;
      published++;
      local.deliver(t.name, payload);
    },
    capturePublishes: (fn) => hold.capture(fn),
    async beforeCommit() {},
    afterCommit(held) {
      for (const h of held) {
        published++;
        local.deliver(h.topic.name, h.payload);
      }
    },
    subscribe(t, handler) {
      return local.add(t.name, handler as (payload: unknown) => void);
    },
    onMissed() {
      return () => {};
    },
    stats() {
      return { kind: 'memory', ...local.counts(), published };
    },
    async close() {
      local.clear();
    },
  };
  return bus;
}
