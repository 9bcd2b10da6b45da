import { afterEach, describe, expect, it } from 'vitest';
import { PostgresBus } from '../../server/cluster/pg-bus';
import { pruneBusPayloads } from '../../server/cluster/prune';
import { RedisBus } from '../../server/cluster/redis-bus';
import { createLimits } from '../../server/cluster/limits';
import { sql } from 'drizzle-orm';
import { busPayloads } from '../../server/db/schema';
import type { Database } from '../../server/db/client';
import { topic, type EventBus } from '../../server/realtime/bus';
import { StreamLog } from '../../server/realtime/record';
import { REDIS_URL, uniqueChannel } from '../helpers/cluster';
import { createTestDatabase } from '../helpers/db';
import { createLogger } from '../../server/log';
import { waitFor } from '../helpers/wait';

const postgres = !!process.env.DATABASE_URL;

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function twoBuses(kind: 'postgres' | 'redis'): Promise<{ database: Database; one: EventBus; two: EventBus }> {
  const database = await createTestDatabase();
  open.push(database);
  const channel = uniqueChannel();
  const start = (instanceId: string) =>
    kind === 'postgres'
      ? PostgresBus.start({ url: database.url!, channel, instanceId, log: createLogger('silent') })
      : RedisBus.start({ url: REDIS_URL, channel, instanceId, log: createLogger('silent') });
  const [one, two] = await Promise.all([start('one'), start('two')]);
  open.push(one, two);
  return { database, one, two };
}

const big = (n: number) => ({ text: 'x'.repeat(n), at: new Date(Date.UTC(2025, 0, 1)) });
type Big = ReturnType<typeof big>;

describe.skipIf(!postgres)('cross-instance bus (skipped on PGlite: it keeps the in-process bus)', () => {
  describe.each(['postgres', 'redis'] as const)('%s', (kind) => {
    it('delivers a publish once on each instance, the publisher included; large payloads and Dates survive', async () => {
      const { one, two } = await twoBuses(kind);
      const t = topic<Big>('big');
      const onOne: Big[] = [];
      const onTwo: Big[] = [];
      one.subscribe(t, (p) => void onOne.push(p));
      two.subscribe(t, (p) => void onTwo.push(p));
      one.publish(t, big(10));
      one.publish(t, big(20_000));
      one.publish(t, big(30));
      await waitFor(() => onTwo.length === 3, { what: 'three messages on the other instance' });
      expect(onTwo.map((p) => p.text.length)).toEqual([10, 20_000, 30]);
      expect(onTwo[1]!.at).toEqual(new Date(Date.UTC(2025, 0, 1)));
      // A barrier: once a later message has come back, an echo of the first three would have too.
      const fence = topic<number>('fence');
      let fenced = false;
      one.subscribe(fence, () => void (fenced = true));
      two.publish(fence, 1);
      await waitFor(() => fenced, { what: 'the fence' });
      expect(onOne.map((p) => p.text.length)).toEqual([10, 20_000, 30]);
      expect(two.stats()).toMatchObject({ kind, received: 3 });
    });

    it("sends a transaction's events at commit, delivered once everywhere, in commit order across writers", async () => {
      const { database, one, two } = await twoBuses(kind);
      const t = topic<{ n: number; pad: string }>('ordered');
      const onOne: number[] = [];
      const onTwo: number[] = [];
      one.subscribe(t, (p) => void onOne.push(p.n));
      two.subscribe(t, (p) => void onTwo.push(p.n));
      // Two writers of one stream, one per instance, interleaved; every fifth payload is large.
      // Each instance orders its own writers, as two processes would.
      const logs = {
        one: new StreamLog({ db: database.db, bus: one }),
        two: new StreamLog({ db: database.db, bus: two }),
      };
      const write = (bus: EventBus, n: number) =>
        logs[bus === one ? 'one' : 'two'].recordThenPublish(
          ['ordered'],
          async () => n,
          (r) => bus.publish(t, { n: r, pad: r % 5 === 0 ? 'y'.repeat(9_000) : '' }),
        );
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: 40 }, (_, n) => write(n % 2 ? one : two, n).then(() => void order.push(n))),
      );
      await waitFor(() => onOne.length === 40 && onTwo.length === 40, { what: 'forty on each' });
      // Both instances saw the same sequence, each event once.
      expect(onOne).toEqual(onTwo);
      expect(new Set(onOne).size).toBe(40);
      if (kind === 'postgres') {
        const stored = await database.db.select().from(busPayloads);
        expect(stored.length).toBe(8);
        expect(await pruneBusPayloads(database.db, Date.now() + 11 * 60_000)).toBe(8);
      }
    });
  });
});

describe.skipIf(!postgres)('the Postgres bus and a failed commit', () => {
  // Redis cannot know whether Postgres committed (decision 010 accepts it there); LISTEN/NOTIFY can.
  it('delivers nothing of a transaction whose commit fails, on any instance; the next commit arrives', async () => {
    const { database, one, two } = await twoBuses('postgres');
    // A deferred unique constraint is checked at COMMIT: after the bus has been handed the events.
    await database.db.execute(
      sql`create table commit_fails (k int, constraint commit_fails_k unique (k) deferrable initially deferred)`,
    );
    const t = topic<number>('maybe');
    const onOne: number[] = [];
    const onTwo: number[] = [];
    one.subscribe(t, (n) => void onOne.push(n));
    two.subscribe(t, (n) => void onTwo.push(n));
    const log = new StreamLog({ db: database.db, bus: one });
    await expect(
      log.recordThenPublish(
        ['maybe'],
        async (tx) => void (await tx.execute(sql`insert into commit_fails values (1), (1)`)),
        () => one.publish(t, 1),
      ),
    ).rejects.toThrow();
    await log.recordThenPublish(
      ['maybe'],
      async () => 2,
      (n) => one.publish(t, n),
    );
    await waitFor(() => onOne.length > 0 && onTwo.length > 0, { what: 'the committed event on both instances' });
    expect(onOne).toEqual([2]);
    expect(onTwo).toEqual([2]);
  });
});

describe.skipIf(!postgres)('rate-limit counters in Redis (skipped on PGlite: it counts in memory)', () => {
  it("are the cluster's own: instances with one BUS_CHANNEL share them, another channel on the same Redis does not", async () => {
    const database = await createTestDatabase();
    open.push(database);
    const make = async (channel: string) => {
      const limits = createLimits({
        kind: 'postgres',
        db: database.db,
        redisUrl: REDIS_URL,
        channel,
        log: createLogger('silent'),
      });
      open.push(limits);
      // Until Redis answers, each counts in its own memory (the insurance limiter).
      await limits.ready();
      return limits.limiter({ keyPrefix: 'signin-failures', points: 2, duration: 60 });
    };
    const ours = uniqueChannel();
    const [a, b, other] = await Promise.all([make(ours), make(ours), make(uniqueChannel())]);
    const key = 'someone@example.com';
    await a.consume(key);
    await b.consume(key);
    // The third attempt anywhere in the cluster is refused: the two instances share the count.
    await expect(a.consume(key)).rejects.toMatchObject({ remainingPoints: 0 });
    // Another cluster on the same Redis starts from zero.
    expect((await other.consume(key)).consumedPoints).toBe(1);
  });
});
