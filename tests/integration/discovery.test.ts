import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { anonymousCaller, createTestApp, signUp, startTestServer } from '../helpers/app';
import { scanFinished, startFakes, watchDiscovery } from '../helpers/discovery';

const fakes = await startFakes({ dex: { newPerCall: 6 } });
const { dex, goplus } = fakes;
const app = await createTestApp(fakes.env);
const server = await startTestServer(app);
const admin = await signUp(app); // the first account is admin

async function rejection(p: Promise<unknown>): Promise<TRPCError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return err as TRPCError;
}

describe('discovery: shared scan', () => {
  it('ten clients trigger at once: one scan upstream, one scanId, each new token delivered once to every subscriber', async () => {
    // Real latency keeps the scan in flight while all ten triggers arrive.
    dex.configure({ latencyMs: 150 });
    const users = await Promise.all(Array.from({ length: 10 }, () => signUp(app)));
    const watchers = await Promise.all(users.map((u) => watchDiscovery(server.url, u.token)));
    const profileCalls = dex.count('/token-profiles/latest/v1');
    const lookupsBefore = goplus.lookups().length;

    const results = await Promise.all(watchers.map((w) => w.client.discovery.trigger.mutate({ maxTokens: 20 })));
    const scanId = results[0]!.scanId;
    expect(results.every((r) => r.scanId === scanId)).toBe(true);
    expect(results.filter((r) => !r.joined)).toHaveLength(1);

    await Promise.all(watchers.map((w) => w.until('scan_completed', scanId)));
    dex.configure({ latencyMs: 0 });
    expect(dex.count('/token-profiles/latest/v1') - profileCalls).toBe(1);
    const completed = watchers[0]!.of('scan_completed', scanId)[0]!;
    expect(completed.counts.newTokens).toBe(6);
    // Unkeyed GoPlus: exactly one look-up per candidate, each address once.
    const lookups = goplus.lookups().slice(lookupsBefore);
    expect(lookups).toHaveLength(completed.counts.candidates);
    expect(new Set(lookups.map((l) => l.addresses[0])).size).toBe(completed.counts.candidates);

    const stored = (await admin.caller.discovery.recent({ limit: 200 })).tokens;
    const newest = dex.tokens.slice(-6).map((t) => t.address).sort();
    for (const w of watchers) {
      const got = w.of('new_token', scanId).map((e) => e.token.address);
      expect(got.slice().sort()).toEqual(newest);
      expect(new Set(w.received.map((r) => r.id)).size).toBe(w.received.length);
      w.close();
    }
    expect(stored.map((t) => t.address)).toEqual(expect.arrayContaining(newest));
  });

  it('a scan survives one 429 (Retry-After) and a GoPlus 4029 in a 200 body, and marks a token GoPlus answers 500 for as unverified', async () => {
    dex.configure({ newPerCall: 0 });
    const minted = dex.mint(4, 'ethereum');
    const broken = minted[1]!;
    goplus.failAddress(broken.address, 500);
    dex.failNext(429, 1, { retryAfterSeconds: 0, path: '/token-profiles/latest/v1' });
    goplus.failNext(200, 1, { bodyCode: 4029 });
    const user = await signUp(app);
    const watcher = await watchDiscovery(server.url, user.token);

    const { scanId } = await user.caller.discovery.trigger({ maxTokens: 4, chain: 'ethereum' });
    await watcher.until('scan_completed', scanId);
    goplus.failAddress(broken.address, null);

    const completed = watcher.of('scan_completed', scanId)[0]!;
    expect(completed.counts).toMatchObject({ candidates: 4, newTokens: 4, unverified: 1 });
    expect(completed.counts.safe + completed.counts.risky).toBe(3);
    const token = (await user.caller.discovery.recent({ chain: 'ethereum', limit: 200 })).tokens.find((t) => t.address === broken.address)!;
    expect(token).toMatchObject({ verified: false, isSafe: false });
    expect(token.risks[0]).toBe('Security check unavailable (GoPlus error 500)');
    expect(token.riskScore).toBeGreaterThanOrEqual(50);
    // 1 attempt + 2 retries for the broken address, then the scan went on.
    expect(goplus.lookups().filter((l) => l.addresses.includes(broken.address))).toHaveLength(3);
    expect((await app.discovery.store.scan(scanId))!.unverified).toBe(1);
    watcher.close();
  });

  it('reports a scan whose upstream is down as scan_error with a message, and recovers on the next trigger', async () => {
    const user = await signUp(app);
    const watcher = await watchDiscovery(server.url, user.token);
    dex.failNext(503, 6, { path: '/token-' });
    const { scanId } = await user.caller.discovery.trigger({});
    await watcher.until('scan_error', scanId);
    expect(watcher.of('scan_error', scanId)[0]!.message).toMatch(/DexScreener error 503/);
    expect((await scanFinished(app, scanId)).status).toBe('failed');

    const again = await user.caller.discovery.trigger({ maxTokens: 2 });
    expect(again).toEqual({ scanId: again.scanId, joined: false });
    await watcher.until('scan_completed', again.scanId);
    watcher.close();
  });

  it('status, stats and recent describe the store', async () => {
    const status = await admin.caller.discovery.status();
    expect(status).toMatchObject({ scanning: false, databaseCapacity: 200, autoDiscoveryActive: false, autoDiscoveryInterval: 300 });
    expect(status.totalScans).toBeGreaterThanOrEqual(3);
    expect(status.tokensInDatabase).toBeGreaterThanOrEqual(10);
    const stats = await admin.caller.discovery.stats();
    expect(stats.databaseUsage).toBe(status.tokensInDatabase);
    expect(stats.safeTokens + stats.riskyTokens + stats.unverifiedTokens).toBe(status.tokensInDatabase);
    expect(stats.totalTokensDiscovered).toBe(status.tokensInDatabase);
    const recent = await admin.caller.discovery.recent({ limit: 3 });
    expect(recent.count).toBe(3);
    const times = recent.tokens.map((t) => t.discoveredAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const eth = await admin.caller.discovery.recent({ chain: 'ethereum' });
    expect(eth.tokens.every((t) => t.chain === 'ethereum')).toBe(true);
  });

  it('a profileUrl scans exactly that token', async () => {
    const [target] = dex.mint(1, 'bsc');
    const user = await signUp(app);
    const { scanId } = await user.caller.discovery.trigger({ profileUrl: `https://dexscreener.com/bsc/${target!.address}` });
    const row = await scanFinished(app, scanId);
    expect(row).toMatchObject({ status: 'completed', candidates: 1, newTokens: 1 });
  });
});

describe('discovery: access and input', () => {
  it('needs a session', async () => {
    expect((await rejection(anonymousCaller(app).discovery.status())).code).toBe('UNAUTHORIZED');
    expect((await rejection(anonymousCaller(app).discovery.trigger({}))).code).toBe('UNAUTHORIZED');
  });

  it('answers bad input with BAD_REQUEST and a readable message', async () => {
    const { caller } = await signUp(app);
    const cases = [
      caller.discovery.trigger({ maxTokens: 0 }),
      caller.discovery.trigger({ maxTokens: 101 }),
      caller.discovery.trigger({ chain: 'not a chain!' }),
      caller.discovery.trigger({ profileUrl: 'https://example.com/solana/abc' }),
      caller.discovery.recent({ limit: 500 }),
      admin.caller.discovery.autoStart({ intervalSeconds: 10, maxTokens: 5 }),
      admin.caller.discovery.autoStart({ intervalSeconds: 60, maxTokens: 0 }),
    ];
    for (const p of cases) {
      const err = await rejection(p);
      expect(err.code).toBe('BAD_REQUEST');
      expect(err.message).toMatch(/maxTokens|chain|profileUrl|limit|intervalSeconds/);
    }
  });

  it('rate-limits trigger per user with TOO_MANY_REQUESTS', async () => {
    const { caller } = await signUp(app);
    const other = await signUp(app);
    dex.configure({ newPerCall: 0 });
    for (let i = 0; i < 5; i++) await caller.discovery.trigger({ maxTokens: 1 });
    const err = await rejection(caller.discovery.trigger({ maxTokens: 1 }));
    expect(err.code).toBe('TOO_MANY_REQUESTS');
    expect(err.message).toMatch(/try again in \d+ s/);
    // Someone else's budget is untouched.
    await expect(other.caller.discovery.trigger({ maxTokens: 1 })).resolves.toMatchObject({ scanId: expect.any(Number) });
  });
});
