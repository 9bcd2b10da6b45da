import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../server/app';
import { loadConfig } from '../../server/config';
import { openDatabase, type Database } from '../../server/db/client';
import { vaultEvents, vaultSessions, vaultSettings } from '../../server/db/schema';
import { createLogger } from '../../server/log';
import { KEY_FILE, loadKeyring } from '../../server/modules/vault/crypto';
import { RECENT_SUCCESS_MS } from '../../server/modules/vault/refresh';
import { rekey } from '../../server/modules/vault/rekey';
import { createTestDatabase } from '../helpers/db';
import { secretValues, startVinted } from '../helpers/vault';

const vinted = await startVinted({ accessLifetimeSeconds: 600 });
const eqLabel = (label: string) => eq(vaultSessions.label, label);
const key = () => randomBytes(32).toString('base64');

// A PGlite directory is created and migrated on disk: slower than the in-memory ones.
/** One database several apps open in turn (a restart): a PGlite directory, or a Postgres copy. */
async function reopenable(forcePglite = false): Promise<{ open: () => Promise<Database>; dir: string | null }> {
  if (process.env.DATABASE_URL && !forcePglite) {
    const base = await createTestDatabase();
    afterAll(() => base.close());
    return { open: () => openDatabase({ url: base.url }), dir: null };
  }
  const dir = mkdtempSync(join(tmpdir(), 'hubcast-vault-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return { open: () => openDatabase({ dataDir: join(dir, 'db') }), dir: join(dir, 'db') };
}

async function start(
  db: { open: () => Promise<Database> },
  env: Record<string, string>,
  log?: ReturnType<typeof createLogger>,
  now?: () => number,
): Promise<App> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    UPSTREAMS: 'demo',
    VAULT_AUTO_REFRESH_ENABLED: 'false',
    ...vinted.env,
    ...env,
  });
  return createApp(config, { database: await db.open(), log, now });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

async function vaultRowsText(app: App) {
  const rows = [
    await app.db.select().from(vaultSessions),
    await app.db.select().from(vaultEvents),
    await app.db.select().from(vaultSettings),
  ];
  return JSON.stringify(rows);
}

describe('no plaintext secret at rest, in logs, answers or events', () => {
  it('searches every PGlite data file and every vault column for the token bytes', async () => {
    const db = await reopenable(true);
    const lines: string[] = [];
    const log = createLogger(
      'trace',
      new Writable({ write: (chunk, _e, cb) => void (lines.push(String(chunk)), cb()) }),
    );
    // Ahead by `skew`: the refresh of the revoked session must not be answered with the success
    // seconds before it (refresh.ts), and waiting those seconds out would only slow the test.
    let skew = 0;
    const app = await start(db, { VAULT_KEY: key() }, log, () => Date.now() + skew);
    const cookie = vinted.signIn();
    const secrets = new Set(secretValues(cookie));
    const saved = await app.vault.saveSession({
      provider: 'vinted',
      label: 'plaintext-probe-label',
      secrets: { cookie },
    });
    vinted.expireAccessTokens();
    const answers: unknown[] = [saved, await app.vault.refreshNow(saved.id)];
    // The rotated tokens are secrets too.
    for (const v of Object.values((await app.vault.credential('vinted', 'plaintext-probe-label')).secrets))
      if (v.length >= 16) secrets.add(v);
    vinted.revokeAll();
    skew += RECENT_SUCCESS_MS;
    const revoked = await app.vault.refreshNow(saved.id);
    expect(revoked.outcome).not.toBe('success');
    answers.push(
      revoked,
      await app.vault.sessions(),
      await app.vault.attempts(undefined, 50),
      await app.vault.store.replay(0, 100),
    );
    expect(secrets.size).toBeGreaterThanOrEqual(6);

    const columns = await vaultRowsText(app);
    await app.close();
    const files = filesUnder(db.dir!).map((f) => readFileSync(f));
    // The search works: a plain column value is found in the files.
    expect(files.some((b) => b.includes('plaintext-probe-label'))).toBe(true);
    for (const secret of secrets) {
      expect(files.filter((b) => b.includes(secret)).length, 'a data file holds a token').toBe(0);
      expect(columns.includes(secret), 'a vault column holds a token').toBe(false);
      expect(lines.join('').includes(secret), 'a log line holds a token').toBe(false);
      expect(JSON.stringify(answers).includes(secret), 'an answer or event holds a token').toBe(false);
    }
  }, 120_000);
});

describe('the generated key', () => {
  it('without VAULT_KEY, one key is generated into the data directory (mode 600) with a warning naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubcast-key-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const lines: string[] = [];
    const log = createLogger(
      'warn',
      new Writable({ write: (chunk, _e, cb) => void (lines.push(String(chunk)), cb()) }),
    );
    const first = loadKeyring({ vaultKey: undefined, previousKeys: [], dataDir: dir, log });
    const file = join(dir, KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(lines.join('')).toContain(file);
    // A restart reads the same key instead of making a new one.
    expect(loadKeyring({ vaultKey: undefined, previousKeys: [], dataDir: dir, log }).currentId).toBe(first.currentId);
  });
});

describe('key rotation', () => {
  it('an old key in VAULT_PREVIOUS_KEYS keeps every session readable, before and after rekey', async () => {
    const db = await reopenable();
    const [k1, k2, k3] = [key(), key(), key()];

    const a = await start(db, { VAULT_KEY: k1 });
    const first = await a.vault.saveSession({ provider: 'vinted', label: 'old', secrets: { cookie: vinted.signIn() } });
    await a.vault.controlScheduler('start', 7, 'admin');
    await a.close();

    // Rotated without listing the old key: the row is unreadable, and says how to fix it.
    const lost = await start(db, { VAULT_KEY: k2 });
    expect((await lost.vault.refreshNow(first.id)).session).toMatchObject({
      status: 'requires_configuration',
      lastError: expect.stringMatching(/VAULT_PREVIOUS_KEYS/),
    });
    await lost.close();

    const b = await start(db, { VAULT_KEY: k2, VAULT_PREVIOUS_KEYS: k1 });
    // The scheduler choice survived the restarts.
    expect(b.vault.schedulerState()).toMatchObject({ isActive: true, autoRefreshEnabled: true, intervalMinutes: 7 });
    expect(await b.vault.credential('vinted', 'old')).toMatchObject({ sessionId: first.id });
    expect((await b.vault.refreshNow(first.id)).outcome).toBe('success');
    await b.vault.saveSession({ provider: 'vinted', label: 'new', secrets: { cookie: vinted.signIn() } });
    // A row still sealed under k1 (saved before the rotation, never refreshed since).
    await b.db
      .update(vaultSessions)
      .set(a.vault.box.seal('vinted', { access_token_web: 'x', refresh_token_web: 'y', anon_id: 'z' }))
      .where(eqLabel('new'));
    const report = await rekey(b.db, b.vault.box);
    expect(report).toMatchObject({ unreadable: [] });
    expect(report.rekeyed).toBeGreaterThanOrEqual(1);
    await b.vault.controlScheduler('stop', undefined, 'admin');
    await b.close();

    const c = await start(db, { VAULT_KEY: k2 });
    expect(c.vault.schedulerState()).toMatchObject({ isActive: false, intervalMinutes: 7 });
    for (const row of await c.db.select().from(vaultSessions)) {
      expect(row.secretKeyId).toBe(c.vault.box.currentKeyId);
      expect(() => c.vault.box.open(row)).not.toThrow();
    }
    expect(await c.vault.credential('vinted', 'old')).toMatchObject({ sessionId: first.id });
    await c.close();

    const d = await start(db, { VAULT_KEY: k3 });
    const err = await d.vault.credential('vinted', 'old').catch((e: Error) => e);
    expect(String(err)).toMatch(/CredentialUnavailableError: .*neither VAULT_KEY nor listed in VAULT_PREVIOUS_KEYS/);
    await d.close();
  }, 120_000);
});
