import type { VaultScheduler, VaultSession } from '../../../shared/vault';
import type { Command } from '../command';
import { localTime, table, view } from '../render';
import { httpApi, type CliContext } from '../session';

const whenOrNever = (d: Date | null, never: string) => (d ? localTime(d, true) : never);

/** `vault status` for people: the scheduler in one line, then one row per session. */
function statusText(scheduler: VaultScheduler, sessions: VaultSession[]): string {
  const running = scheduler.isActive
    ? `running every ${scheduler.intervalMinutes} min, next ${whenOrNever(scheduler.nextRunAt, 'soon')}`
    : 'stopped';
  const head = `Scheduler: ${running}; last run ${whenOrNever(scheduler.lastRunAt, 'never')}.`;
  const rows = table(
    sessions,
    [
      { header: 'id', value: (s) => s.id, right: true },
      { header: 'provider', value: (s) => s.provider },
      { header: 'label', value: (s) => s.label, max: 30 },
      { header: 'status', value: (s) => s.status.replace(/_/g, ' ') },
      { header: 'expires', value: (s) => whenOrNever(s.expiresAt, '-') },
      { header: 'last refresh', value: (s) => whenOrNever(s.lastRefreshAt, 'never') },
      { header: 'failures', value: (s) => s.failures, right: true },
      { header: 'last error', value: (s) => s.lastError, max: 50 },
    ],
    'No sessions yet: add one on the Vault page.',
  );
  return `${head}\n\n${rows}`;
}

/**
 * Runs server-side code against the database with this shell's configuration (the same
 * environment the server gets): rekey needs the keys, which never travel over the API.
 */
export async function withDatabase<T>(
  ctx: CliContext,
  run: (deps: Awaited<ReturnType<typeof serverSide>>) => Promise<T>,
): Promise<T> {
  const deps = await serverSide(ctx);
  try {
    return await run(deps);
  } finally {
    await deps.database.close();
  }
}

async function serverSide(ctx: CliContext) {
  const { loadConfig } = await import('../../../server/config');
  const { openDatabase } = await import('../../../server/db/client');
  const config = loadConfig(process.env);
  if (!config.DATABASE_URL) {
    // An embedded database is one process's files: a second writer would corrupt them.
    const running = await fetch(`${ctx.url}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
      () => true,
      () => false,
    );
    if (running)
      throw new Error(
        `A Hubcast server answers at ${ctx.url} and owns the embedded database in ${config.DATA_DIR}: stop it first (with DATABASE_URL set, no need).`,
      );
  }
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR });
  return { config, database };
}

async function keyring(config: import('../../../server/config').Config) {
  const { loadKeyring } = await import('../../../server/modules/vault/crypto');
  const { createLogger } = await import('../../../server/log');
  return loadKeyring({
    vaultKey: config.VAULT_KEY,
    previousKeys: config.VAULT_PREVIOUS_KEYS,
    dataDir: config.DATA_DIR,
    log: createLogger('error'),
  });
}

/**
 * `vault status` and `vault refresh <id>` go through the API (admin token from `login`);
 * `vault rekey` and `vault diagnose` run here, against the database, with VAULT_KEY and
 * VAULT_PREVIOUS_KEYS from the environment.
 */
export const vaultCommand: Command = {
  name: 'vault',
  usage:
    'vault status | refresh <sessionId> | rekey | diagnose   (rekey/diagnose read DATABASE_URL or DATA_DIR and VAULT_KEY here)',
  async run({ ctx, args }) {
    const [sub, id] = args;
    if (sub === 'status') {
      const http = httpApi(ctx);
      const [scheduler, sessions] = await Promise.all([http.vault.scheduler.query(), http.vault.sessions.query()]);
      return view({ scheduler, sessions }, statusText(scheduler, sessions));
    }
    if (sub === 'refresh') {
      if (!id || !/^\d+$/.test(id))
        throw new Error('Usage: npm run cli -- vault refresh <sessionId>   (ids: npm run cli -- vault status)');
      return httpApi(ctx).vault.refreshNow.mutate({ sessionId: Number(id) });
    }
    if (sub === 'rekey') {
      return withDatabase(ctx, async ({ config, database }) => {
        const { SecretBox } = await import('../../../server/modules/vault/secret-box');
        const { rekey } = await import('../../../server/modules/vault/rekey');
        const report = await rekey(database.db, new SecretBox(await keyring(config)));
        if (report.unreadable.length) process.exitCode = 1;
        return report;
      });
    }
    if (sub === 'diagnose') return diagnose(ctx);
    throw new Error('Usage: npm run cli -- vault status|refresh <sessionId>|rekey|diagnose');
  },
};

async function diagnose(ctx: CliContext) {
  const { ConfigError, loadConfig } = await import('../../../server/config');
  const { checkSessions, checkUpstreams, keySource } = await import('../../../server/modules/vault/diagnose');
  const print = (c: { name: string; ok: boolean; detail: string; fix?: string }) => {
    console.log(`${c.ok ? 'ok     ' : 'PROBLEM'} ${c.name}: ${c.detail}${c.fix ? `\n        fix: ${c.fix}` : ''}`);
    if (!c.ok) process.exitCode = 1;
  };
  let config;
  try {
    config = loadConfig(process.env);
    print({ name: 'configuration', ok: true, detail: 'every variable is valid' });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems)
      print({ name: 'configuration', ok: false, detail: p, fix: 'correct the variable (see README, Configuration)' });
    return;
  }
  const key = keySource(config);
  print({ name: 'key', ...key });
  try {
    await withDatabase(ctx, async ({ database }) => {
      print({ name: 'database', ok: true, detail: `${database.kind} opened and migrated` });
      if (key.ok) for (const c of await checkSessions(database, await keyring(config))) print(c);
    });
  } catch (err) {
    print({
      name: 'database',
      ok: false,
      detail: err instanceof Error ? err.message : 'cannot be opened',
      fix: 'check DATABASE_URL (or DATA_DIR) and that the database is up',
    });
  }
  for (const c of await checkUpstreams(config)) print(c);
  console.log(
    process.exitCode ? '\nSome checks failed: see the fixes above.' : '\nEverything the vault needs is in place.',
  );
}
