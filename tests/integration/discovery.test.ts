import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { anonymousCaller, createTestApp, signUp, startTestServer } from '../helpers/app';
import { scanFinished, startFakes, watchDiscovery } from '../helpers/discovery';
import { capturedLog } from '../helpers/log';
import { waitFor } from '../helpers/wait';

const fakes = await startFakes({ dex: { newPerCall: 6 } });
const { dex, goplus } = fakes;
const logged = capturedLog();
const app = await createTestApp(fakes.env, { log: logged.log });
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
    const newest = dex.tokens
      .slice(-6)
      .map((t) => t.address)
      .sort();
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
    expect(completed.counts).toMatchObject({ candidates: 4, newTokens: 4 });
    expect(completed.counts.safe + completed.counts.risky + completed.counts.unverified).toBe(4);
    const stored = (await user.caller.discovery.recent({ chain: 'ethereum', limit: 200 })).tokens.filter((t) =>
      minted.some((m) => m.address === t.address),
    );
    // The broken one, plus any the fake GoPlus reports without honeypot/tax data.
    expect(stored.filter((t) => t.verdict === 'unverified')).toHaveLength(completed.counts.unverified);
    const token = stored.find((t) => t.address === broken.address)!;
    expect(token).toMatchObject({ verified: false, isSafe: false, verdict: 'unverified' });
    expect(token.risks[0]).toBe('Security check unavailable (GoPlus error 500)');
    expect(token.riskScore).toBeGreaterThanOrEqual(50);
    // 1 attempt + 2 retries for the broken address, then the scan went on.
    expect(goplus.lookups().filter((l) => l.addresses.includes(broken.address))).toHaveLength(3);
    expect((await app.discovery.store.scan(scanId))!.unverified).toBe(completed.counts.unverified);
    watcher.close();
  });

  it('reports a scan whose upstream is down as scan_error with a message, and recovers on the next trigger', async () => {
    const user = await signUp(app);
    const watcher = await watchDiscovery(server.url, user.token);
    dex.failNext(503, 6, { path: '/token-' });
    const { scanId } = await user.caller.discovery.trigger({});
    await watcher.until('scan_error', scanId);
    // By the time the final event arrives the scan is let go: a page refreshing on it sees no scan running.
    expect((await user.caller.discovery.status()).scanning).toBe(false);
    const message = watcher.of('scan_error', scanId)[0]!.message;
    expect(message).toMatch(/DexScreener error 503/);
    expect((await scanFinished(app, scanId)).status).toBe('failed');
    // The outcome outlives the event: status keeps it (from the database) and the server logged it.
    expect((await user.caller.discovery.status()).lastScan).toEqual({
      scanId,
      outcome: 'failed',
      finishedAt: expect.any(Date),
      error: message,
      candidates: 0,
      newTokens: 0,
    });
    const failed = logged.lines
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === 'discovery scan failed' && l.scanId === scanId);
    expect(failed).toEqual([
      expect.objectContaining({ level: 40, reason: expect.stringMatching(/DexScreener error 503/) }),
    ]);
    expect(failed[0]).not.toHaveProperty('err');

    const again = await user.caller.discovery.trigger({ maxTokens: 2 });
    expect(again).toEqual({ scanId: again.scanId, joined: false });
    await watcher.until('scan_completed', again.scanId);
    await waitFor(async () => (await user.caller.discovery.status()).lastScan?.scanId === again.scanId, {
      what: 'status to show the new scan',
    });
    expect((await user.caller.discovery.status()).lastScan).toMatchObject({
      outcome: 'completed',
      error: null,
      newTokens: expect.any(Number),
    });
    expect(
      logged.lines.some(
        (l) => l.includes('"msg":"discovery scan completed"') && l.includes(`"scanId":${again.scanId}`),
      ),
    ).toBe(true);
    watcher.close();
  });

  it('status, stats and recent describe the store', async () => {
    const status = await admin.caller.discovery.status();
    expect(status).toMatchObject({
      scanning: false,
      databaseCapacity: 200,
      autoDiscoveryActive: false,
      autoDiscoveryInterval: 300,
    });
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
    const { scanId } = await user.caller.discovery.trigger({
      profileUrl: `https://dexscreener.com/bsc/${target!.address}`,
    });
    const row = await scanFinished(app, scanId);
    expect(row).toMatchObject({ status: 'completed', candidates: 1, newTokens: 1 });
  });
});

describe('discovery: access and input', () => {
  it('needs a session', async () => {
    expect((await rejection(anonymousCaller(app).discovery.status())).code).toBe('UNAUTHORIZED');
    expect((await rejection(anonymousCaller(app).discovery.trigger({}))).code).toBe('UNAUTHORIZED');
    expect((await rejection(anonymousCaller(app).discovery.scanTokens({ scanId: 1 }))).code).toBe('UNAUTHORIZED');
  });

  it("scanTokens: a scan's checked tokens, new and known, for any signed-in user; NOT_FOUND for no such scan", async () => {
    const { caller } = await signUp(app);
    dex.configure({ newPerCall: 0 });
    const [known] = dex.mint(1, 'base');
    await scanFinished(
      app,
      (await caller.discovery.trigger({ profileUrl: `https://dexscreener.com/base/${known!.address}` })).scanId,
    );
    // The scan's row is final a moment before the service lets go of it: a trigger then would join it.
    await waitFor(async () => !(await caller.discovery.status()).scanning, { what: 'the first scan to be let go' });
    const [fresh] = dex.mint(1, 'base');
    const { scanId, joined } = await caller.discovery.trigger({ maxTokens: 2, chain: 'base' });
    expect(joined).toBe(false);
    await scanFinished(app, scanId);
    const other = await signUp(app);
    const got = await other.caller.discovery.scanTokens({ scanId });
    expect(got).toMatchObject({ scanId, status: 'completed' });
    expect(got.tokens.map((t) => [t.token.address, t.isNew]).sort()).toEqual(
      [
        [fresh!.address, true],
        [known!.address, false],
      ].sort(),
    );
    expect((await rejection(caller.discovery.scanTokens({ scanId: 999_999 }))).code).toBe('NOT_FOUND');
    expect((await rejection(caller.discovery.scanTokens({ scanId: 0 }))).code).toBe('BAD_REQUEST');
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
    // Each gets its handler now: awaited one by one, a later one would reject unhandled meanwhile.
    for (const pending of cases.map((p) => rejection(p))) {
      const err = await pending;
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
    await expect(other.caller.discovery.trigger({ maxTokens: 1 })).resolves.toMatchObject({
      scanId: expect.any(Number),
    });
  });
});
