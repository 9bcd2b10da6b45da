import type postgres from 'postgres';

/** NOTIFY payloads must stay under 8,000 bytes; above this a message travels by reference. */
export const NOTIFY_INLINE_BYTES = 7_900;
export const REF = 'ref:';
/** Texts per statement: a burst is several statements rather than one huge one. */
const BATCH_MAX = 500;

const inline = (text: string) => Buffer.byteLength(text) <= NOTIFY_INLINE_BYTES;

/**
 * Texts in order as statement-sized runs: inline texts together (at most BATCH_MAX), a large
 * text alone (it is stored first, then referenced). Texts must be distinct: Postgres delivers
 * identical notifications of one transaction once (wire.ts numbers every message).
 */
export function notifyRuns(texts: readonly string[]): string[][] {
  const runs: string[][] = [];
  for (const text of texts) {
    const last = runs.at(-1);
    if (inline(text) && last && inline(last[0]!) && last.length < BATCH_MAX) last.push(text);
    else runs.push([text]);
  }
  return runs;
}

/**
 * The NOTIFY statement of one run, for either driver's tagged template (postgres.js on the
 * publishing connection, drizzle's `sql` inside a transaction).
 */
export function notifyStatement<Q>(
  tag: (strings: TemplateStringsArray, ...values: string[]) => Q,
  channel: string,
  run: readonly string[],
): Q {
  if (run.length === 1 && !inline(run[0]!))
    return tag`with r as (insert into bus_payloads (payload) values (${run[0]!}) returning id) select pg_notify(${channel}, ${REF} || r.id) from r`;
  // The elements come out in array order, and pg_notify runs row by row: they are sent in order.
  // The parameter is text, cast after: a jsonb parameter would be encoded again by postgres.js.
  return tag`select pg_notify(${channel}, t) from jsonb_array_elements_text((${JSON.stringify(run)}::text)::jsonb) as t`;
}

interface Queued {
  text: string;
  done: (err?: unknown) => void;
}

/**
 * This instance's notifications outside any transaction, in publish order, on one connection:
 * whatever was published while a statement was running goes out together in the next one.
 * Each notifying transaction takes Postgres's database-wide notify lock, so under load one per
 * batch rather than one per event.
 */
export class NotifyQueue {
  private queue: Queued[] = [];
  private running = false;

  constructor(
    private readonly sql: postgres.Sql,
    private readonly channel: string,
  ) {}

  /** Resolves once the notification is sent (every listener will get it), rejects if it could not be. */
  notify(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ text, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!this.running) void this.drain();
    });
  }

  private async drain() {
    this.running = true;
    try {
      while (this.queue.length) {
        const [run] = notifyRuns(this.queue.slice(0, BATCH_MAX).map((q) => q.text));
        const batch = this.queue.splice(0, run!.length);
        let err: unknown;
        try {
          await notifyStatement(this.sql, this.channel, run!).execute();
        } catch (e) {
          // Thrown or rejected alike: `drain` itself must never reject (nobody awaits it).
          err = e ?? new Error('notify failed');
        }
        for (const q of batch) q.done(err);
      }
    } finally {
      this.running = false;
    }
  }
}
