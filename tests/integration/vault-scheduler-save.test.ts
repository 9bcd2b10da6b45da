import { performance } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import { createTestApp, signUp } from '../helpers/app';
import { startVinted } from '../helpers/vault';

// Fake time, 60 times faster than the wall clock and shared by the fake Vinted and the app
// (as in vault-scheduler.test.ts): the 30-minute interval lasts 30 real seconds.
const SCALE = 60;
const t0 = performance.now();
const epoch = Date.now();
const clock = () => epoch + (performance.now() - t0) * SCALE;

// Two-minute tokens under a 30-minute interval, as in the demo (15-minute tokens, 30 minutes).
const vinted = await startVinted({ accessLifetimeSeconds: 120, now: clock });
const app = await createTestApp(
  {
    ...vinted.env,
    VAULT_AUTO_REFRESH_ENABLED: 'true',
    VAULT_REFRESH_INTERVAL_MINUTES: '30',
    VAULT_MINUTE_MS: String(60_000 / SCALE),
  },
  { now: clock },
);
const admin = await signUp(app, { name: 'Admin' });

describe('the scheduler looks at a session when it is saved', () => {
  it('a session saved after the first run stays active on short tokens, refreshed long before the next run', async () => {
    // The start's run is over (it found nothing): the session comes after it.
    await vi.waitFor(() => expect(app.vault.schedulerState().lastRunAt).not.toBeNull());
    const nextRunAt = app.vault.schedulerState().nextRunAt!.getTime();
    const saved = await admin.caller.vault.saveSession({
      provider: 'vinted',
      label: 'default',
      secrets: { cookie: vinted.signIn() },
    });

    const statuses = new Set<string>();
    await vi.waitFor(
      async () => {
        const session = (await admin.caller.vault.sessions()).find((s) => s.id === saved.id)!;
        statuses.add(session.status);
        // Four two-minute tokens in a row: about six minutes of fake time.
        expect(vinted.counters.refreshes).toBeGreaterThanOrEqual(4);
      },
      { timeout: 20_000, interval: 50 },
    );
    expect(clock()).toBeLessThan(nextRunAt);
    // Never shown expired, and every refresh was the scheduler's, none rejected.
    expect([...statuses]).toEqual(['active']);
    // The fake counts a refresh as it answers; its attempt is stored a moment later.
    const attempts = await vi.waitFor(async () => {
      const stored = await admin.caller.vault.attempts({ sessionId: saved.id, limit: 100 });
      expect(stored.length).toBeGreaterThanOrEqual(4);
      return stored;
    });
    expect(attempts.every((a) => a.trigger === 'scheduler' && a.outcome === 'success')).toBe(true);
    expect(vinted.counters.refreshRejected).toBe(0);
  }, 30_000);
});
