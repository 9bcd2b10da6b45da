import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRPCError } from '@trpc/server';
import { desc, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../server/app';
import { loadConfig } from '../../server/config';
import { openDatabase, type Database } from '../../server/db/client';
import { discoveryScans } from '../../server/db/schema';
import { callerForToken, createTestApp, signUp, TEST_HASH_COST, testVaultKey } from '../helpers/app';
import { startFakes } from '../helpers/discovery';
import { waitFor } from '../helpers/wait';
import { databaseUrlWithName, templateDatabaseName, withAdminConnection } from '../helpers/postgres';

/** A database that outlives one App, so a "restart" can open it again. */
async function persistentDatabase(): Promise<{ open: () => Promise<Database>; drop: () => Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const dir = mkdtempSync(join(tmpdir(), 'hubcast-discovery-'));
    return {
      open: () => openDatabase({ dataDir: dir }),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `${templateDatabaseName(url).replace(/_template$/, '')}_t${randomBytes(5).toString('hex')}`;
  await withAdminConnection(url, (sql) =>
    sql.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${templateDatabaseName(url)}"`),
  );
  return {
    open: () => openDatabase({ url: databaseUrlWithName(url, name) }),
    drop: async () =>
      void (await withAdminConnection(url, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))),
  };
}

// One scheduler "second" lasts 20 ms here, so the 60 s minimum interval is 1.2 s.
const fakes = await startFakes({ dex: { newPerCall: 2 }, goplus: { appKey: 'k', appSecret: 's' } });
const env = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  PORT: '0',
  UPSTREAMS: 'demo',
  PASSWORD_HASH_COST: TEST_HASH_COST,
  DISCOVERY_TICK_MS: '20',
  VAULT_KEY: testVaultKey,
  ...fakes.env,
};
const persistent = await persistentDatabase();
let current: App | null = null;
afterAll(async () => {
  await current?.close();
  await persistent.drop();
});

async function start() {
  current = await createApp(loadConfig(env), { database: await persistent.open() });
  return current;
}

const autoScans = (app: App) =>
  app.db.select().from(discoveryScans).where(eq(discoveryScans.triggeredBy, 'auto')).orderBy(desc(discoveryScans.id));

async function code(p: Promise<unknown>) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return (err as TRPCError).code;
}

describe('auto-discovery', () => {
  // Two app starts on one database and several scans: minutes on a busy two-core machine.
  it('admin only; scans on schedule, and keeps doing so after a restart; autoStop stops it', async () => {
    let app = await start();
    const admin = await signUp(app);
    const user = await signUp(app);
    expect(admin.user.role).toBe('admin');
    expect(await code(user.caller.discovery.autoStart({ intervalSeconds: 60, maxTokens: 3 }))).toBe('FORBIDDEN');
    expect(await code(user.caller.discovery.autoStop())).toBe('FORBIDDEN');
    expect(await autoScans(app)).toEqual([]);

    const status = await admin.caller.discovery.autoStart({ intervalSeconds: 60, maxTokens: 3 });
    expect(status).toMatchObject({ autoDiscoveryActive: true, autoDiscoveryInterval: 60, autoDiscoveryMaxTokens: 3 });
    // The first scan starts at once, the next one an interval later.
    await waitFor(async () => (await autoScans(app)).filter((s) => s.status === 'completed').length >= 2, {
      what: 'two completed auto scans',
    });
    expect((await autoScans(app)).every((s) => s.maxTokens === 3)).toBe(true);

    await app.close();
    app = await start();
    const again = await callerForToken(app, admin.token);
    expect(await again.discovery.status()).toMatchObject({ autoDiscoveryActive: true, autoDiscoveryInterval: 60 });
    const before = (await autoScans(app))[0]!.id;
    // The last scan's outcome comes from the database, so a restart keeps it (a scan cut short
    // by the restart reads as failed, with that reason).
    const last = (await again.discovery.status()).lastScan!;
    const rows = (await autoScans(app)).filter((s) => s.finishedAt);
    const row = rows.find((s) => s.id === last.scanId)!;
    expect(last).toEqual({
      scanId: row.id,
      outcome: row.status,
      finishedAt: row.finishedAt,
      error: row.error,
      candidates: row.candidates,
      newTokens: row.newTokens,
    });
    expect(rows.every((s) => s.finishedAt! <= last.finishedAt)).toBe(true);
    await waitFor(async () => (await autoScans(app)).some((s) => s.id > before && s.status === 'completed'), {
      what: 'an auto scan after the restart',
    });

    expect(await again.discovery.autoStop()).toMatchObject({ autoDiscoveryActive: false });
    await waitFor(async () => !(await again.discovery.status()).scanning, { what: 'the running scan to end' });
    // Stopped means no timer left to start another scan.
    expect(app.discovery.autoScheduled).toBe(false);
  }, 240_000);

  it('AUTO_START_DISCOVERY, DISCOVERY_INTERVAL and DISCOVERY_MAX_TOKENS give the defaults before any admin choice', async () => {
    const app = await createTestApp({
      ...fakes.env,
      AUTO_START_DISCOVERY: 'true',
      DISCOVERY_INTERVAL: '1',
      DISCOVERY_MAX_TOKENS: '2',
      DISCOVERY_TICK_MS: '100',
    });
    const { caller } = await signUp(app);
    expect(await caller.discovery.status()).toMatchObject({
      autoDiscoveryActive: true,
      autoDiscoveryInterval: 1,
      autoDiscoveryMaxTokens: 2,
    });
    await waitFor(async () => (await autoScans(app)).some((s) => s.status === 'completed' && s.maxTokens === 2), {
      what: 'an auto scan with the env defaults',
    });
    // The first account of this fresh database is its admin.
    expect(await caller.discovery.autoStop()).toMatchObject({ autoDiscoveryActive: false });
  }, 180_000);
});
