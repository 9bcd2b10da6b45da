import { describe, expect, it } from 'vitest';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { wsClient } from '../helpers/clients';
import { startVinted } from '../helpers/vault';
import { RECENT_SUCCESS_MS } from '../../server/modules/vault/refresh';

// The app's clock runs `skew` ms ahead, so a test can step past the recent-success window
// without waiting for it; the fake's ten-minute tokens do not notice a few seconds.
let skew = 0;
const vinted = await startVinted({ accessLifetimeSeconds: 600 });
const app = await createTestApp(
  { ...vinted.env, VAULT_AUTO_REFRESH_ENABLED: 'false' },
  { now: () => Date.now() + skew },
);
const server = await startTestServer(app);
const admin = await signUp(app, { name: 'Admin' });

const save = () =>
  admin.caller.vault.saveSession({ provider: 'vinted', label: 'default', secrets: { cookie: vinted.signIn() } });

describe('"Refresh now" from many clients', () => {
  it('ten clients asking within seconds of each other: one upstream refresh, one attempt, one answer', async () => {
    const saved = await save();
    const clients = Array.from({ length: 10 }, () => wsClient(server.url, admin.token).client);
    const ask = (c: (typeof clients)[number]) => c.vault.refreshNow.mutate({ sessionId: saved.id });
    const before = vinted.counters.refreshes;
    // Five at once join the refresh in flight; five more ask once it has finished.
    const first = await Promise.all(clients.slice(0, 5).map(ask));
    const second = await Promise.all(clients.slice(5).map(ask));

    expect(vinted.counters.refreshes - before).toBe(1);
    expect(vinted.counters.refreshRejected).toBe(0);
    const results = [...first, ...second];
    expect(results.every((r) => r.outcome === 'success' && r.session.status === 'active')).toBe(true);
    expect(new Set(results.map((r) => r.session.expiresAt?.getTime())).size).toBe(1);
    expect(await admin.caller.vault.attempts({ sessionId: saved.id })).toHaveLength(1);
  });

  it('asking again after a few seconds, or after a new cookie was saved, calls the upstream', async () => {
    const saved = await save();
    const ask = () => admin.caller.vault.refreshNow({ sessionId: saved.id });
    const before = vinted.counters.refreshes;
    await ask();
    expect(vinted.counters.refreshes - before).toBe(1);
    skew += RECENT_SUCCESS_MS;
    await ask();
    expect(vinted.counters.refreshes - before).toBe(2);
    // A save right after a refresh: the new cookie is refreshed, not answered with the old one's result.
    await save();
    expect((await ask()).outcome).toBe('success');
    expect(vinted.counters.refreshes - before).toBe(3);
    expect(vinted.counters.refreshRejected).toBe(0);
  });
});
