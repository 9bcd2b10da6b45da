import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createTestApp, signUp } from '../helpers/app';
import { startVinted } from '../helpers/vault';

// Fake time: 60 times faster than the wall clock, shared by the fake Vinted and the app, so
// five minutes of 60-second tokens pass in five seconds with real timers and real sockets.
const SCALE = 60;
const t0 = performance.now();
const epoch = Date.now();
const clock = () => epoch + (performance.now() - t0) * SCALE;

const vinted = await startVinted({ accessLifetimeSeconds: 60, now: clock });
const app = await createTestApp(
  // One scheduler minute lasts one real second: the same fake minute the clock shows.
  {
    ...vinted.env,
    VAULT_AUTO_REFRESH_ENABLED: 'true',
    VAULT_REFRESH_INTERVAL_MINUTES: '1',
    VAULT_MINUTE_MS: String(60_000 / SCALE),
  },
  { now: clock },
);
const admin = await signUp(app, { name: 'Admin' });

describe('the scheduler keeps a 60-second Vinted session alive', () => {
  it('vinted.analyze succeeds continuously for 5 minutes of fake time, no 401 reaching the caller', async () => {
    const saved = await admin.caller.vault.saveSession({
      provider: 'vinted',
      label: 'default',
      secrets: { cookie: vinted.signIn() },
    });
    const end = clock() + 5 * 60_000;
    let analyses = 0;
    while (clock() < end) {
      // Any failure (a 401 included) rejects here and fails the test.
      const out = await app.vinted.analyze(`veste ${analyses % 7}`);
      expect(out.count).toBeGreaterThan(0);
      analyses++;
    }
    // Through the procedure as well, at the end of the run.
    expect((await admin.caller.vinted.analyze({ query: 'veste' })).count).toBeGreaterThan(0);

    const attempts = await admin.caller.vault.attempts({ sessionId: saved.id, limit: 100 });
    expect(attempts.every((a) => a.outcome === 'success')).toBe(true);
    // Tokens live one minute: at least four refreshes in five, most of them by the scheduler.
    expect(vinted.counters.refreshes).toBeGreaterThanOrEqual(4);
    expect(attempts.filter((a) => a.trigger === 'scheduler').length).toBeGreaterThanOrEqual(2);
    expect(vinted.counters.refreshRejected).toBe(0);
    expect(analyses).toBeGreaterThan(10);
    const scheduler = await admin.caller.vault.scheduler();
    expect(scheduler).toMatchObject({ isActive: true, intervalMinutes: 1 });
    expect(scheduler.lastRunAt!.getTime()).toBeGreaterThan(clock() - 2 * 60_000);
  }, 60_000);
});
