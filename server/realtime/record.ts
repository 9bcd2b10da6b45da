import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import type { EventBus, HeldPublish } from './bus';

/** A transaction handle, as `db.transaction` passes it: stream locks only mean something inside one. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * Advisory-lock namespace for stream locks. The two-int form keeps them out of the one-bigint
 * key space that singleton election (pg_try_advisory_lock) uses.
 */
const STREAM_LOCK_SPACE = 48_213;

/** A transaction's publish turns, and the per-stream tails of the StreamLog that opened it. */
interface Turns {
  tails: Map<string, Promise<void>>;
  held: { key: string; previous: Promise<void>; done: () => void; tail: Promise<void> }[];
}

/** Transactions opened by recordThenPublish → the publish turns they hold. */
const turns = new WeakMap<Tx, Turns>();

/**
 * Serialises the writers of each stream until their transaction ends, so ids of one stream
 * commit in the order they were numbered and a reader's high-water mark never skips a late
 * commit (docs/decisions/005-stream-locks.md). Keys are taken in sorted order (no deadlock
 * between two writers of the same two streams); take them just before the insert and do
 * nothing afterwards that waits on other locks. Only inside `recordThenPublish`.
 */
export async function lockStreams(tx: Tx, keys: Iterable<string>): Promise<void> {
  const mine = turns.get(tx);
  if (!mine) throw new Error('stream writes must run inside recordThenPublish (it publishes them in commit order)');
  const { tails, held } = mine;
  const sorted = [...new Set(keys)].sort();
  if (sorted.length === 0) return;
  // One statement for all of them, taken in the order of the VALUES rows (sorted): one round trip.
  const rows = sql.join(
    sorted.map((key) => sql`(${key})`),
    sql`, `,
  );
  await tx.execute(
    sql`select pg_advisory_xact_lock(${sql.raw(String(STREAM_LOCK_SPACE))}, hashtext(k)) from (values ${rows}) as v(k)`,
  );
  for (const key of sorted) {
    if (held.some((t) => t.key === key)) continue;
    // Lock order is commit order; the same order for publishing, or a fast second writer's
    // publish could overtake the first's and a live reader would drop the first as old.
    const previous = tails.get(key) ?? Promise.resolve();
    let done!: () => void;
    const turn = new Promise<void>((resolve) => (done = resolve));
    const tail = previous.then(() => turn);
    tails.set(key, tail);
    held.push({ key, previous, done, tail });
  }
}

/**
 * How a process writes stream events: one per App, holding, per stream key, the tail that
 * settles once every publish of an earlier writer in this App is done. Another App in the
 * same process (tests, bench) orders its own writers, as another instance would.
 */
export class StreamLog {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly deps: { db: Db; bus: EventBus }) {}

  /**
   * Records events inside one transaction under their streams' locks, then publishes them
   * only after the commit and after every earlier writer of the same streams has published:
   * a live subscriber never sees an event a replaying one could not find, nor one out of order.
   * `publish` runs inside the transaction (it must only call `bus.publish`); the bus holds what
   * it publishes and delivers it as above (a cross-instance bus: in commit order, see bus.ts).
   * `streamKeys` may be empty when `record` locks its streams itself (the inbox does).
   */
  async recordThenPublish<R>(
    streamKeys: readonly string[],
    record: (tx: Tx) => Promise<R>,
    publish: (recorded: R) => void,
  ): Promise<R> {
    const { db, bus } = this.deps;
    const mine: Turns = { tails: this.tails, held: [] };
    let publishes: HeldPublish[] = [];
    try {
      const recorded = await db.transaction(async (tx) => {
        turns.set(tx, mine);
        await lockStreams(tx, streamKeys);
        const r = await record(tx);
        // The callback's bus.publish calls are held, not delivered: a cross-instance bus sends them
        // now, still under the stream locks, so every instance gets them in commit order.
        publishes = bus.capturePublishes(() => publish(r));
        if (publishes.length) await bus.beforeCommit(tx, publishes);
        return r;
      });
      await Promise.all(mine.held.map((t) => t.previous));
      if (publishes.length) bus.afterCommit(publishes);
      return recorded;
    } finally {
      for (const t of mine.held) {
        t.done();
        if (this.tails.get(t.key) === t.tail) this.tails.delete(t.key);
      }
    }
  }
}
