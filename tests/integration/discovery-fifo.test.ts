import { count } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { tokens } from '../../server/db/schema';
import { createTestApp, signUp } from '../helpers/app';
import { scanFinished, startFakes } from '../helpers/discovery';

// Keyed GoPlus: checks go in batches under an access token.
const fakes = await startFakes({
  dex: { newPerCall: 50, pageSize: 100 },
  goplus: { appKey: 'k-test', appSecret: 's-test' },
});
const { dex, goplus } = fakes;
const app = await createTestApp(fakes.env);

describe('discovery store (FIFO, one row per token)', () => {
  it('after 250 distinct tokens, keeps the newest 200 and drops the oldest; re-discovered tokens are updated, not duplicated', async () => {
    const scans = [];
    for (let i = 0; i < 5; i++) {
      // A fresh user per scan: trigger is rate-limited per user.
      const { caller } = await signUp(app);
      const { scanId, joined } = await caller.discovery.trigger({ maxTokens: 100 });
      expect(joined).toBe(false);
      scans.push(await scanFinished(app, scanId));
    }
    expect(dex.tokens).toHaveLength(250);
    expect(scans.every((s) => s.status === 'completed')).toBe(true);
    expect(scans.map((s) => s.newTokens)).toEqual([50, 50, 50, 50, 50]);
    // From the second scan on, the feed's older half was already stored: updated in place.
    expect(scans.slice(1).map((s) => s.updatedTokens)).toEqual([50, 50, 50, 50]);

    const { caller } = await signUp(app);
    const status = await caller.discovery.status();
    expect(status).toMatchObject({ tokensInDatabase: 200, databaseCapacity: 200, totalScans: 5 });
    const [rows] = await app.db.select({ n: count() }).from(tokens);
    expect(rows!.n).toBe(200);

    const stored = new Set(
      (await caller.discovery.recent({ limit: 200 })).tokens.map((t) => `${t.chain}:${t.address}`),
    );
    const key = (t: { chain: string; address: string }) => `${t.chain}:${t.address}`;
    expect(dex.tokens.slice(0, 50).filter((t) => stored.has(key(t)))).toEqual([]);
    expect(dex.tokens.slice(50).every((t) => stored.has(key(t)))).toBe(true);
    expect((await caller.discovery.stats()).totalTokensDiscovered).toBe(250);
  });

  it('used one access token and batched addresses', () => {
    const lookups = goplus.lookups();
    expect(goplus.tokensIssued()).toBe(1);
    expect(lookups.every((l) => l.authorized)).toBe(true);
    expect(Math.max(...lookups.map((l) => l.addresses.length))).toBeGreaterThan(1);
    // 5 scans x 100 candidates, far fewer calls than addresses.
    expect(lookups.length).toBeLessThan(50);
  });
});
