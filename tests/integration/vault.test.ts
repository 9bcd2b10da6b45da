import { describe, expect, it } from 'vitest';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { rejection } from '../helpers/errors';
import { appRouter } from '../../server/router';
import { startFakeGoPlus } from '../../server/demo/goplus';
import { MAX_PAGES } from '../../server/modules/vinted/service';
import { PER_PAGE } from '../../server/modules/vinted/catalogue';
import { expectedPrices, secretValues, startVinted, watchVault } from '../helpers/vault';

const vinted = await startVinted({ accessLifetimeSeconds: 600 });
const goplus = await startFakeGoPlus({ appKey: 'gp-key', appSecret: 'gp-secret-value-123' });
const app = await createTestApp({ ...vinted.env, GOPLUS_URL: goplus.url, VAULT_AUTO_REFRESH_ENABLED: 'false' });
const server = await startTestServer(app);
// The first account is the admin.
const admin = await signUp(app, { name: 'Admin' });
const user = await signUp(app, { name: 'User' });

describe('vault sessions', () => {
  it('saves a pasted Vinted cookie: active, expiry read from the token, no secret in the answer', async () => {
    const cookie = vinted.signIn();
    const saved = await admin.caller.vault.saveSession({
      provider: 'vinted',
      label: 'main',
      secrets: { cookie: `Cookie: ${cookie}` },
    });
    expect(saved).toMatchObject({ provider: 'vinted', label: 'main', status: 'active', lastError: null });
    const exp = JSON.parse(
      Buffer.from(cookie.split('access_token_web=')[1]!.split('.')[1]!, 'base64url').toString(),
    ).exp;
    expect(saved.expiresAt?.getTime()).toBe(exp * 1000);
    const listed = JSON.stringify(await admin.caller.vault.sessions());
    for (const secret of secretValues(cookie)) expect(listed).not.toContain(secret);
  });

  it('a cookie without the session tokens is refused with what to copy instead', async () => {
    const err = await rejection(
      admin.caller.vault.saveSession({ provider: 'vinted', label: 'x', secrets: { cookie: 'anon_id=abc; v_udt=1' } }),
    );
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toMatch(/no access_token_web, refresh_token_web: copy the whole Cookie header/);
  });

  it('ten concurrent refreshNow calls cause one upstream refresh', async () => {
    const saved = await admin.caller.vault.saveSession({
      provider: 'vinted',
      label: 'burst',
      secrets: { cookie: vinted.signIn() },
    });
    const before = vinted.counters.refreshes;
    const results = await Promise.all(
      Array.from({ length: 10 }, () => admin.caller.vault.refreshNow({ sessionId: saved.id })),
    );
    expect(vinted.counters.refreshes - before).toBe(1);
    expect(vinted.counters.refreshRejected).toBe(0);
    expect(results.every((r) => r.outcome === 'success' && r.session.status === 'active')).toBe(true);
    const attempts = await admin.caller.vault.attempts({ sessionId: saved.id });
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ trigger: 'manual', outcome: 'success', message: null });
  });

  it('a token revoked upstream turns the session to error with a reason, pushed live to an admin page', async () => {
    const saved = await admin.caller.vault.saveSession({
      provider: 'vinted',
      label: 'doomed',
      secrets: { cookie: vinted.signIn() },
    });
    const page = await watchVault(server.url, admin.token);
    vinted.revokeAll();
    const result = await admin.caller.vault.refreshNow({ sessionId: saved.id });
    expect(result.outcome).toBe('error');
    const event = await page.until((e) => e.type === 'attempt' && e.session.id === saved.id);
    expect(event).toMatchObject({
      type: 'attempt',
      attempt: { outcome: 'error', trigger: 'manual' },
      session: { status: 'error' },
    });
    expect(event.type === 'attempt' && event.session.lastError).toMatch(
      /refused the refresh token.*paste a fresh cookie/,
    );
    expect(event.type === 'attempt' && event.session.expiresAt).toBeInstanceOf(Date);
  });
});

describe('vinted.analyze', () => {
  it('pages the catalogue and reports count, min, median, max and a histogram that match the catalogue', async () => {
    await admin.caller.vault.saveSession({
      provider: 'vinted',
      label: 'default',
      secrets: { cookie: vinted.signIn() },
    });
    const out = await admin.caller.vinted.analyze({ query: 'Jean Levis 501' });
    const want = expectedPrices('jean levis 501', out.totalEntries, MAX_PAGES * PER_PAGE);
    expect(out).toMatchObject({ ...want, currency: 'EUR', pages: Math.ceil(want.count / PER_PAGE) });
    expect(out.histogram.reduce((n, b) => n + b.count, 0)).toBe(out.count);
    expect(out.sample.length).toBeGreaterThan(0);
  });

  it('a 401 mid-way is one refresh and one retry, invisible to the caller', async () => {
    const before = { refreshes: vinted.counters.refreshes, unauthorized: vinted.counters.catalogueUnauthorized };
    vinted.expireAccessTokens();
    const out = await admin.caller.vinted.analyze({ query: 'robe zara' });
    expect(out.count).toBeGreaterThan(0);
    expect(vinted.counters.refreshes - before.refreshes).toBe(1);
    expect(vinted.counters.catalogueUnauthorized - before.unauthorized).toBe(1);
    const [last] = await admin.caller.vault.attempts({ limit: 1 });
    expect(last).toMatchObject({ label: 'default', trigger: 'unauthorized', outcome: 'success' });
  });
});

describe('vinted.analyze with a session under any label', () => {
  it('uses the one Vinted session whatever its label, and says plainly when there is none', async () => {
    const own = await createTestApp({ ...vinted.env, VAULT_AUTO_REFRESH_ENABLED: 'false' });
    const boss = await signUp(own, { name: 'Label Admin' });
    const none = await rejection(boss.caller.vinted.analyze({ query: 'jean' }));
    expect(none.code).toBe('PRECONDITION_FAILED');
    expect(none.message).toBe('No vinted session in the vault: an admin must add one on the Vault page.');

    await boss.caller.vault.saveSession({
      provider: 'vinted',
      label: 'my shop account',
      secrets: { cookie: vinted.signIn() },
    });
    const out = await boss.caller.vinted.analyze({ query: 'Jean Levis 501' });
    expect(out.count).toBeGreaterThan(0);
  });
});

describe('goplus provider', () => {
  it('an app key and secret become an access token at once; a wrong pair needs configuration', async () => {
    const ok = await admin.caller.vault.saveSession({
      provider: 'goplus',
      label: 'default',
      secrets: { appKey: 'gp-key', appSecret: 'gp-secret-value-123' },
    });
    expect(ok).toMatchObject({ status: 'active', lastError: null });
    expect(ok.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 7000_000);
    const bad = await admin.caller.vault.saveSession({
      provider: 'goplus',
      label: 'wrong',
      secrets: { appKey: 'gp-key', appSecret: 'nope-nope' },
    });
    expect(bad).toMatchObject({
      status: 'requires_configuration',
      lastError: expect.stringMatching(/rejected the signature/),
    });
    expect(JSON.stringify(await admin.caller.vault.sessions())).not.toContain('gp-secret-value-123');
  });
});

describe('scheduler control', () => {
  it('start, stop and restart with a new interval', async () => {
    expect(await admin.caller.vault.scheduler()).toMatchObject({
      isActive: false,
      autoRefreshEnabled: false,
      intervalMinutes: 30,
      nextRunAt: null,
    });
    const started = await admin.caller.vault.controlScheduler({ action: 'start', intervalMinutes: 10 });
    expect(started).toMatchObject({ isActive: true, autoRefreshEnabled: true, intervalMinutes: 10 });
    expect(started.nextRunAt!.getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);
    expect(await admin.caller.vault.controlScheduler({ action: 'restart' })).toMatchObject({
      isActive: true,
      intervalMinutes: 10,
    });
    expect(await admin.caller.vault.controlScheduler({ action: 'stop' })).toMatchObject({
      isActive: false,
      autoRefreshEnabled: false,
      nextRunAt: null,
    });
    const err = await rejection(admin.caller.vault.controlScheduler({ action: 'start', intervalMinutes: 0 }));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toContain('The interval must be at least 1 minute.');
  });

  it('a sweep records its run without putting back an interval another instance changed meanwhile', async () => {
    const before = (await app.vault.store.settings())!;
    // Another instance's admin change, straight to the database: this instance's copy is now stale.
    await app.vault.store.saveSettings({ ...before, intervalMinutes: 42 }, admin.user.id);
    await app.vault.scheduler.runOnce();
    const after = (await app.vault.store.settings())!;
    expect(after.intervalMinutes).toBe(42);
    expect(after.lastRunAt!.getTime()).toBeGreaterThan(before.lastRunAt?.getTime() ?? 0);
    // And an admin change here does not put back an older last run.
    await app.vault.store.markRun(new Date(after.lastRunAt!.getTime() + 60_000), after);
    await admin.caller.vault.controlScheduler({ action: 'stop' });
    expect((await app.vault.store.settings())!.lastRunAt!.getTime()).toBe(after.lastRunAt!.getTime() + 60_000);
  });
});

describe('admins only', () => {
  it('a non-admin gets FORBIDDEN on every vault and vinted procedure', async () => {
    const calls: Record<string, () => Promise<unknown>> = {
      'vault.sessions': () => user.caller.vault.sessions(),
      'vault.saveSession': () =>
        user.caller.vault.saveSession({ provider: 'vinted', label: 'x', secrets: { cookie: vinted.signIn() } }),
      'vault.refreshNow': () => user.caller.vault.refreshNow({ sessionId: 1 }),
      'vault.attempts': () => user.caller.vault.attempts(),
      'vault.scheduler': () => user.caller.vault.scheduler(),
      'vault.controlScheduler': () => user.caller.vault.controlScheduler({ action: 'stop' }),
      'vault.events': () => user.caller.vault.events(),
      'vinted.analyze': () => user.caller.vinted.analyze({ query: 'jean' }),
    };
    // Every procedure the routers define is in the list above, so a new one cannot slip by.
    const defined = Object.keys(appRouter._def.procedures).filter((p) => /^(vault|vinted)\./.test(p));
    expect(Object.keys(calls).sort()).toEqual(defined.sort());
    for (const [path, call] of Object.entries(calls)) {
      const err = await rejection(call());
      expect({ path, code: err.code }).toEqual({ path, code: 'FORBIDDEN' });
    }
  });
});

describe.skipIf(!process.env.DATABASE_URL)('two instances on one Postgres', () => {
  it('concurrent refreshes from both instances cause one upstream refresh (advisory lock, re-read)', async () => {
    const { openDatabase } = await import('../../server/db/client');
    const { createApp } = await import('../../server/app');
    const other = await createApp(app.config, { database: await openDatabase({ url: app.database.url }) });
    try {
      const saved = await admin.caller.vault.saveSession({
        provider: 'vinted',
        label: 'shared',
        secrets: { cookie: vinted.signIn() },
      });
      const before = { ...vinted.counters };
      const version = (await app.vault.store.get(saved.id))!.version;
      // Both instances saw the same version expire: only the first to get the lock calls Vinted.
      const results = await Promise.all([
        ...Array.from({ length: 5 }, () => app.vault.refresher.refresh(saved.id, 'unauthorized', version)),
        ...Array.from({ length: 5 }, () => other.vault.refresher.refresh(saved.id, 'unauthorized', version)),
      ]);
      expect(vinted.counters.refreshes - before.refreshes).toBe(1);
      expect(vinted.counters.refreshRejected - before.refreshRejected).toBe(0);
      expect(results.every((r) => r.outcome === 'success')).toBe(true);
    } finally {
      await other.close();
    }
  });
});
