import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, signUp } from '../helpers/app';
import { scanFinished, startFakes } from '../helpers/discovery';
import { expectPlain, expectServing, FAULTS, strictLog, TIMEOUT_MS } from '../helpers/upstream-faults';
import { waitFor } from '../helpers/wait';
import { RECENT_SUCCESS_MS } from '../../server/modules/vault/refresh';

// Each upstream is put down, slow and garbage in turn; the app keeps answering, says what is
// wrong in its status, stores nothing from the bad answers, and recovers with no restart.

// Fake time for the vault: 60 times the wall clock, shared with the fake GoPlus, so one-minute
// scheduler runs (and the back-off after a failed token renewal) pass in about a second.
const SCALE = 60;
const t0 = performance.now();
const epoch = Date.now();
const clock = () => epoch + (performance.now() - t0) * SCALE;
// The vault's scheduler runs every (fake) minute: a failed GoPlus token renewal is retried in seconds.
const fastVault = {
  VAULT_AUTO_REFRESH_ENABLED: 'true',
  VAULT_REFRESH_INTERVAL_MINUTES: '1',
  VAULT_MINUTE_MS: String(60_000 / SCALE),
};

/**
 * Discovery on fakes of its own. Each client keeps its upstream's published call budget (60
 * DexScreener profile calls a minute), which failing calls and their retries use up too: the
 * DexScreener and the GoPlus cases get an app each, so neither waits in the other's budget.
 */
async function discoveryUnderTest() {
  const { dex, goplus, env } = await startFakes({
    goplus: { appKey: 'fault-key', appSecret: 'fault-secret', now: clock },
  });
  const log = strictLog();
  const app = await createTestApp(
    { ...env, ...fastVault, UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) },
    { now: clock, log: log.log },
  );
  const admin = (await signUp(app, { name: 'Admin' })).caller;
  afterEach(() => {
    dex.fault(null);
    goplus.fault(null);
  });
  /** One scan to its end: its id, discovery's status after it, and the tokens it stored. */
  async function scan() {
    // A user of its own per scan: triggers are rate-limited per user, and these tests scan often.
    const { scanId } = await (await signUp(app)).caller.discovery.trigger({ maxTokens: 1 });
    await scanFinished(app, scanId);
    return {
      scanId,
      status: await admin.discovery.status(),
      tokens: (await admin.discovery.scanTokens({ scanId })).tokens,
    };
  }
  return { dex, goplus, app, admin, log, scan };
}

/** GoPlus answered for every token (its verdict may still be "unverified" when GoPlus knows little). */
function expectChecked(tokens: { token: { risks: string[] } }[]) {
  expect(tokens.length).toBeGreaterThan(0);
  for (const { token } of tokens)
    expect(token.risks.filter((r) => r.startsWith('Security check unavailable'))).toEqual([]);
}

const dexSide = await discoveryUnderTest();
const goplusSide = await discoveryUnderTest();

describe('DexScreener misbehaving', () => {
  const { dex, admin, log, scan } = dexSide;
  it.each(FAULTS)(
    '%s: the scan fails with a plain reason, stores nothing, and the next scan after recovery succeeds',
    async (_name, fault) => {
      const before = (await admin.discovery.status()).tokensInDatabase;
      dex.fault(fault);
      const failed = await scan();
      expect(failed.status.lastScan).toMatchObject({
        scanId: failed.scanId,
        outcome: 'failed',
        candidates: 0,
        newTokens: 0,
      });
      expect(failed.status.lastScan!.error).toMatch(/DexScreener/);
      expectPlain(failed.status.lastScan!.error);
      expect(failed.tokens).toEqual([]);
      expect(failed.status.tokensInDatabase).toBe(before);
      expect(failed.status.scanning).toBe(false);
      await expectServing(admin);

      dex.fault(null);
      const next = await scan();
      expect(next.status.lastScan).toMatchObject({ scanId: next.scanId, outcome: 'completed', error: null });
      expect(next.status.lastScan!.newTokens).toBeGreaterThan(0);
      log.expectNoErrors();
    },
  );
});

describe('DexScreener pair look-ups misbehaving', () => {
  const { dex, log, scan } = dexSide;
  it.each(FAULTS)(
    '%s: tokens are stored with "market data unavailable", never as "no trading pair", and priced again after recovery',
    async (_name, fault) => {
      dex.fault(fault, '/tokens/v1/');
      const degraded = await scan();
      expect(degraded.status.lastScan).toMatchObject({ scanId: degraded.scanId, outcome: 'completed' });
      expect(degraded.tokens.length).toBeGreaterThan(0);
      for (const { token } of degraded.tokens) {
        expect(token).toMatchObject({ priceUsd: null, liquidityUsd: null });
        const reason = token.risks.find((r) => r.startsWith('Market data unavailable'));
        expect(reason).toMatch(/DexScreener/);
        expectPlain(reason);
      }

      dex.fault(null);
      const next = await scan();
      expect(next.tokens.length).toBeGreaterThan(0);
      for (const { token } of next.tokens)
        expect(token.risks.filter((r) => r.startsWith('Market data unavailable'))).toEqual([]);
      log.expectNoErrors();
    },
  );
});

describe('GoPlus misbehaving', () => {
  const { goplus, app, admin, log, scan } = goplusSide;
  it.each(FAULTS)(
    '%s: tokens are stored unverified with the reason, never safe, and verified again after recovery',
    async (_name, fault) => {
      goplus.fault(fault);
      // The access token may still be valid: look-ups fail; once it has to be renewed, the renewal fails too.
      const degraded = await scan();
      expect(degraded.status.lastScan).toMatchObject({ scanId: degraded.scanId, outcome: 'completed' });
      expect(degraded.tokens.length).toBeGreaterThan(0);
      for (const { token } of degraded.tokens) {
        expect(token).toMatchObject({ verified: false, isSafe: false, verdict: 'unverified' });
        const reason = token.risks.find((r) => r.startsWith('Security check unavailable'));
        expect(reason).toMatch(/GoPlus/);
        expectPlain(reason);
      }
      await expectServing(admin);

      goplus.fault(null);
      const next = await scan();
      expectChecked(next.tokens);
      log.expectNoErrors();
    },
  );

  it.each(FAULTS)(
    '%s while the access token is renewed: the vault session shows the reason, keeps no token, and renews after recovery',
    async (_name, fault) => {
      const session = (await admin.vault.sessions()).find((s) => s.provider === 'goplus')!;
      // The fault first: the scheduler, which wakes for a session as it falls due on this fast
      // clock, may renew it at any moment, and from now on such a renewal fails too.
      goplus.fault(fault);
      // A refresh asked for seconds after a successful one answers with it (the previous case's
      // recovery, or the scheduler's): this one must reach GoPlus.
      await waitFor(
        async () =>
          clock() - ((await app.vault.store.get(session.id))!.lastRefreshAt?.getTime() ?? 0) >= RECENT_SUCCESS_MS,
        { what: 'the last renewal to be a few seconds old' },
      );
      const { version } = (await app.vault.store.get(session.id))!;
      const failed = await admin.vault.refreshNow({ sessionId: session.id });
      expect(failed.outcome).toBe('error');
      expect(failed.session).toMatchObject({ status: 'error' });
      expect(failed.session.lastError).toMatch(/GoPlus/);
      expectPlain(failed.session.lastError);
      // The token from before the fault is still the one stored: nothing came from the bad answer.
      const row = (await app.vault.store.get(session.id))!;
      expect(row.version).toBe(version);
      await expectServing(admin);

      goplus.fault(null);
      // The token from before still works for look-ups, and the scheduler retries the renewal
      // after its back-off (not only near the expiry), so the session's status recovers by itself.
      expectChecked((await scan()).tokens);
      await waitFor(
        async () => {
          const s = (await admin.vault.sessions()).find((x) => x.id === session.id)!;
          return s.status === 'active' && s.lastError === null;
        },
        { what: 'the scheduler to renew the GoPlus token' },
      );
      expect((await app.vault.store.get(session.id))!.version).toBeGreaterThan(version);
      log.expectNoErrors();
    },
  );
});
