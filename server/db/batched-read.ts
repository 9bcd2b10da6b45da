/** A round that follows another within this long is part of a storm (see `gatherMs`). */
const STORM_GAP_MS = 50;
/** The `gatherMs` of the reads a reconnect storm makes (sessions, a series' resume reads). */
export const STORM_GATHER_MS = 5;

/**
 * Reads by key, coalesced: the keys asked for while a round is in flight are read together in
 * the next one (a few hundred per query), so a storm of reconnects costs a query per round,
 * not one per connection. A key only ever joins a round that has not started yet, so its answer
 * was read after it was asked and sees every commit made before that: unlike a cache, nothing
 * read here can be stale, and a sign-out or a role change needs no message to be seen.
 */
export class BatchedRead<K, V> {
  private waiting = new Map<K, Waiter<V>[]>();
  private running = false;
  /** When the last round ended. */
  private lastRoundAt = -Infinity;
  private readonly maxKeys: number;
  private readonly gatherMs: number;

  constructor(
    /** Reads the given keys; a key without a row is left out of the map. */
    private readonly load: (keys: K[]) => Promise<Map<K, V>>,
    opts: {
      maxKeys?: number;
      /**
       * In a storm (rounds less than STORM_GAP_MS apart), how long a round waits for more keys
       * before it starts. PGlite runs a query on our own thread, ~2 ms for a small one and
       * ~0.1 ms more per key: a reconnect storm read one key per round, and spent most of its
       * time starting queries. A lone read never waits.
       */
      gatherMs?: number;
    } = {},
  ) {
    this.maxKeys = opts.maxKeys ?? 500;
    this.gatherMs = opts.gatherMs ?? 0;
  }

  get(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(key);
      if (list) list.push({ resolve, reject });
      else this.waiting.set(key, [{ resolve, reject }]);
      if (this.running) return;
      this.running = true;
      // The end of this turn of the event loop, not a microtask: PGlite answers a query within
      // the turn it was asked in, so only reads asked by the other sockets read in the same
      // turn (a storm's many frames) can join. A lone read waits for nothing but that turn;
      // in a storm, a round waits gatherMs for the reads of the next few turns.
      if (this.inStorm()) setTimeout(() => void this.drain(), this.gatherMs);
      else setImmediate(() => void this.drain());
    });
  }

  private inStorm() {
    return this.gatherMs > 0 && performance.now() - this.lastRoundAt < STORM_GAP_MS;
  }

  private async drain() {
    while (this.waiting.size) {
      const round = new Map<K, Waiter<V>[]>();
      for (const [key, list] of this.waiting) {
        if (round.size === this.maxKeys) break;
        round.set(key, list);
      }
      for (const key of round.keys()) this.waiting.delete(key);
      try {
        const found = await this.load([...round.keys()]);
        for (const [key, list] of round) for (const w of list) w.resolve(found.get(key));
      } catch (err) {
        // Every reader of the round gets the failure (one that retries joins a later round).
        for (const list of round.values()) for (const w of list) w.reject(err);
      }
      this.lastRoundAt = performance.now();
    }
    this.running = false;
  }
}

interface Waiter<V> {
  resolve(v: V | undefined): void;
  reject(err: unknown): void;
}
