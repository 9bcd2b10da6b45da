import { describe, expect, it, onTestFinished } from 'vitest';
import { discoveryScans } from '../../server/db/schema';
import { httpClient } from '../helpers/clients';
import { BUSES, startInstance, uniqueChannel, type Instance } from '../helpers/cluster';
import { createTestDatabase } from '../helpers/db';
import { startFakes } from '../helpers/discovery';
import { waitFor } from '../helpers/wait';

/**
 * Manual triggers on two real server processes on one Postgres: one scan per cluster, as on
 * one instance. A trigger on either while a scan runs joins it; once it ends, the next starts one.
 */
const postgres = !!process.env.DATABASE_URL;

describe.skipIf(!postgres)(
  'one discovery scan per cluster (skipped on PGlite: one embedded database is one process)',
  () => {
    it.each(BUSES)(
      'two triggers at once on two instances run one scan, over $bus',
      async ({ env }) => {
        const database = await createTestDatabase();
        onTestFinished(() => database.close());
        const fakes = await startFakes({ dex: { initial: 3, newPerCall: 0 } });
        const common = {
          DATABASE_URL: database.url!,
          BUS_CHANNEL: uniqueChannel(),
          UPSTREAMS: 'live',
          ...fakes.env,
          CLUSTER_ELECTION_MS: '300',
          VAULT_AUTO_REFRESH_ENABLED: 'false',
          // The scan is held at its first security look-up; the hold must not time out and be retried.
          UPSTREAM_TIMEOUT_MS: '60000',
          ...env,
        };
        const [a, b]: [Instance, Instance] = await Promise.all([
          startInstance('a', common),
          startInstance('b', common),
        ]);
        const { token } = await httpClient(a.url).auth.signUp.mutate({
          email: 'scanner@example.com',
          password: 'cluster password',
          name: 'Scanner',
        });
        const onA = httpClient(a.url, token);
        const onB = httpClient(b.url, token);

        const hold = fakes.goplus.holdAfter(0);
        const both = await Promise.all([
          onA.discovery.trigger.mutate({ maxTokens: 3 }),
          onB.discovery.trigger.mutate({ maxTokens: 3 }),
        ]);
        const scanId = both[0].scanId;
        expect(both.map((t) => t.scanId)).toEqual([scanId, scanId]);
        expect(both.map((t) => t.joined).sort()).toEqual([false, true]);
        await waitFor(() => hold.held() > 0, { what: 'the scan to reach its first security look-up' });
        // A later trigger on either instance joins too, and both say a scan is running.
        for (const on of [onA, onB]) {
          expect(await on.discovery.trigger.mutate({ maxTokens: 3 })).toEqual({ scanId, joined: true });
          expect(await on.discovery.status.query()).toMatchObject({ scanning: true, currentScanId: scanId });
        }

        hold.release();
        await waitFor(async () => !(await onB.discovery.status.query()).scanning, { what: 'the scan to end' });
        const scans = await database.db.select().from(discoveryScans);
        expect(scans.map((s) => [s.id, s.status])).toEqual([[scanId, 'completed']]);
        expect(fakes.dex.count('/token-profiles/latest')).toBe(1);
        expect(fakes.goplus.lookups()).toHaveLength(3);
      },
      120_000,
    );
  },
);
