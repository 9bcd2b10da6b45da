import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { exited, startMain } from './main-process';
import { databaseUrlWithName, templateDatabaseName, withAdminConnection } from './postgres';

export interface Instance {
  name: string;
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** A channel name no other run uses, so parallel runs on one broker never mix. */
/** The Redis the cluster tests use as their second bus (`.ci/run` starts one on this address). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Each cluster case runs over both buses: LISTEN/NOTIFY (no REDIS_URL) and Redis pub/sub. */
export const BUSES: { bus: string; env: Record<string, string> }[] = [
  { bus: 'LISTEN/NOTIFY', env: {} },
  { bus: 'Redis pub/sub', env: { REDIS_URL } },
];

export const uniqueChannel = () => `hubcast_test_${randomBytes(5).toString('hex')}`;

/** Runs the real entry point (killed when its test ends) as one named instance of a cluster. */
export async function startInstance(name: string, env: Record<string, string>): Promise<Instance> {
  const started = await startMain({ NODE_ENV: 'test', PASSWORD_HASH_COST: '10', INSTANCE_ID: name, ...env });
  // The child is listening, so it has not exited yet: the exit event is still to come.
  return { name, ...started, exited: exited(started.child) };
}

/**
 * An empty database (not the migrated template): the instances migrate it themselves, at the
 * same time, as a cluster's first start would. Dropped after the file.
 */
export async function createEmptyDatabase(): Promise<{ url: string; close(): Promise<void> }> {
  const base = process.env.DATABASE_URL!;
  const name = `${templateDatabaseName(base).replace(/_template$/, '')}_c${randomBytes(5).toString('hex')}`;
  await withAdminConnection(base, (sql) => sql.unsafe(`CREATE DATABASE "${name}"`));
  return {
    url: databaseUrlWithName(base, name),
    close: () =>
      withAdminConnection(base, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => {}),
  };
}
