import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { capturePublishes, type EventBus, type HeldPublish } from './bus';

/** A transaction handle, as `db.transaction` passes it: stream locks only mean something inside one. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * Advisory-lock namespace for stream locks. The two-int form keeps them out of the one-bigint
 * key space that singleton election (pg_try_advisory_lock) uses.
 */
const STREAM_LOCK_SPACE = 48_213;

/** Per stream key: settles once every publish of an earlier writer in this process is done. */
const publishTail = new Map<string, Promise<void>>();
/** Transactions opened by recordThenPublish → the publish turns they hold. */
const turns = new WeakMap<Tx, { key: string; previous: Promise<void>; done: () => void; tail: Promise<void> }[]>();

/**
 * Serialises the writers of each stream until their transaction ends, so ids of one stream
 * commit in the order they were numbered and a reader's high-water mark never skips a late
 * commit (docs/decisions/005-stream-locks.md). Keys are taken in sorted order (no deadlock
 * between two writers of the same two streams); take them just before the insert and do
 * nothing afterwards that waits on other locks. Only inside `recordThenPublish`.
 */
export async function lockStreams(tx: Tx, keys: Iterable<string>): Promise<void> {
  const held = turns.get(tx);
  if (!held) throw new Error('stream writes must run inside recordThenPublish (it publishes them in commit order)');
  for (const key of [...new Set(keys)].sort()) {
    await tx.execute(sql`select pg_advisory_xact_lock(${sql.raw(String(STREAM_LOCK_SPACE))}, hashtext(${key}))`);
    if (held.some((t) => t.key === key)) continue;
    // Lock order is commit order; the same order for publishing, or a fast second writer's
    // publish could overtake the first's and a live reader would drop the first as old.
    const previous = publishTail.get(key) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = previous.then(() => mine);
    publishTail.set(key, tail);
    held.push({ key, previous, done, tail });
  }
}

/**
 * Records events inside one transaction under their streams' locks, then publishes them
 * only after the commit and after every earlier writer of the same streams has published:
 * a live subscriber never sees an event a replaying one could not find, nor one out of order.
 * `publish` runs inside the transaction (it must only call `bus.publish`); the bus holds what
 * it publishes and delivers it as above (a cross-instance bus: in commit order, see bus.ts).
 * `streamKeys` may be empty when `record` locks its streams itself (the inbox does).
 */
export async function recordThenPublish<R>(
  db: Db,
  streamKeys: readonly string[],
  record: (tx: Tx) => Promise<R>,
  publish: (recorded: R) => void,
): Promise<R> {
  let held: NonNullable<ReturnType<typeof turns.get>> = [];
  let publishes: HeldPublish[] = [];
  try {
    const recorded = await db.transaction(async (tx) => {
      turns.set(tx, (held = []));
      await lockStreams(tx, streamKeys);
      const r = await record(tx);
      // The callback's bus.publish calls are held, not delivered: a cross-instance bus sends them
      // now, still under the stream locks, so every instance gets them in commit order.
      publishes = capturePublishes(() => publish(r));
      for (const [bus, items] of byBus(publishes)) await bus.beforeCommit(tx, items);
      return r;
    });
    await Promise.all(held.map((t) => t.previous));
    for (const [bus, items] of byBus(publishes)) bus.afterCommit(items);
    return recorded;
  } finally {
    for (const t of held) {
      t.done();
      if (publishTail.get(t.key) === t.tail) publishTail.delete(t.key);
    }
  }
}

function byBus(held: HeldPublish[]): Map<EventBus, HeldPublish[]> {
  const out = new Map<EventBus, HeldPublish[]>();
  for (const h of held) {
    const list = out.get(h.bus);
    if (list) list.push(h);
    else out.set(h.bus, [h]);
  }
  return out;
}
