import { afterEach, describe, expect, it } from 'vitest';
import { count } from 'drizzle-orm';
import { PostgresBus } from '../../server/cluster/pg-bus';
import { RedisBus } from '../../server/cluster/redis-bus';
import { announceThreshold, SharedCounts } from '../../server/cluster/shared-counts';
import { busPayloads } from '../../server/db/schema';
import { createLogger } from '../../server/log';
import { OpenCounts } from '../../server/transport/open-counts';
import { REDIS_URL, uniqueChannel } from '../helpers/cluster';
import { createTestDatabase } from '../helpers/db';
import { waitFor } from '../helpers/wait';

/**
 * The cluster-wide gauge behind the socket caps (socket-caps-cluster.test.ts drives it through
 * real servers): two instances' counts over real buses, what is announced and what lapses.
 */
const postgres = !!process.env.DATABASE_URL;
const log = createLogger('silent');

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function twoInstances(kind: 'postgres' | 'redis', o: { max: number; fraction: number; periodMs: number }) {
  const database = await createTestDatabase();
  open.push(database);
  const channel = uniqueChannel();
  const start = async (instanceId: string) => {
    const bus =
      kind === 'postgres'
        ? await PostgresBus.start({ url: database.url!, channel, instanceId, log })
        : await RedisBus.start({ url: REDIS_URL, channel, instanceId, log });
    open.push(bus);
    const share = new SharedCounts({
      bus,
      log,
      instanceId,
      gauge: 'test',
      threshold: announceThreshold(o.max, o.fraction),
      periodMs: o.periodMs,
    });
    open.push(share);
    return { share, counts: new OpenCounts(o.max, share) };
  };
  const [one, two] = await Promise.all([start('one'), start('two')]);
  return { database, one, two };
}

const takeN = (c: OpenCounts, key: string, n: number) => Array.from({ length: n }, () => c.tryTake(key));

describe.skipIf(!postgres)('cluster-wide open counts (skipped on PGlite: one process, nothing to share)', () => {
  describe.each(['postgres', 'redis'] as const)('%s', (kind) => {
    it('announces only keys holding the threshold, at once on change and on falling below it; the bound is the cap plus the threshold less one', async () => {
      // Cap 10, announced from 3.
      const { one, two } = await twoInstances(kind, { max: 10, fraction: 0.3, periodMs: 60_000 });
      expect(takeN(one.counts, 'light', 2)).toEqual([true, true]);
      expect(takeN(one.counts, 'fence', 3)).toEqual([true, true, true]);
      await waitFor(() => two.share.others('fence') === 3, { what: 'the fence key announced' });
      // Two below the threshold: not announced, so the other instance may take the whole cap (12 in all).
      expect(two.share.others('light')).toBe(0);
      expect(takeN(two.counts, 'light', 11)).toEqual([...Array(10).fill(true), false]);
      two.counts.release('light');
      // The third on `one` crosses it: the other sees all three at once (not on the 60 s timer).
      expect(one.counts.tryTake('light')).toBe(true);
      await waitFor(() => two.share.others('light') === 3, { what: 'the crossing announced' });
      expect(two.counts.tryTake('light')).toBe(false);
      // Back below it: withdrawn at once.
      one.counts.release('light');
      await waitFor(() => two.share.others('light') === 0, { what: 'the withdrawal' });
      expect(two.counts.tryTake('light')).toBe(true);
    });

    it('splits a large announcement into NOTIFY-sized messages, and forgets a silent instance after three periods', async () => {
      const { database, one, two } = await twoInstances(kind, { max: 5, fraction: 0, periodMs: 150 });
      const payloads = async () => (await database.db.select({ n: count() }).from(busPayloads))[0]!.n;
      const payloadsBefore = await payloads();
      // 400 keys of 70 characters: about 34 kB of announcement.
      const keys = Array.from({ length: 400 }, (_, i) => `user:${String(i).padStart(4, '0')}-${'k'.repeat(60)}`);
      for (const key of keys) takeN(one.counts, key, 2);
      await waitFor(() => keys.every((k) => two.share.others(k) === 2), { what: 'all 400 keys on the other instance' });
      // None went by reference (a bus_payloads row): each message fitted one NOTIFY.
      expect(await payloads()).toBe(payloadsBefore);
      expect(two.share.remoteKeys()).toBe(400);

      // `one` goes silent without a word, as a crashed instance: its counts lapse and are dropped.
      one.share.close();
      await waitFor(() => two.share.remoteKeys() === 0, { what: 'the silent instance forgotten' });
      expect(two.share.others(keys[0]!)).toBe(0);
      expect(takeN(two.counts, keys[0]!, 6)).toEqual([true, true, true, true, true, false]);
    });
  });
});
