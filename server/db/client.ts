import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { makePrivateDir, tighten } from './private-dir';
import * as schema from './schema';

export type Schema = typeof schema;
/** Both drivers produce this; services depend on it, never on a driver. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** The connection string, for features that need a dedicated connection (LISTEN). */
  url?: string;
  close(): Promise<void>;
}

export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** `url` set → Postgres through postgres.js; otherwise embedded PGlite (in `dataDir`, or in memory when null). */
export async function openDatabase(opts: { url?: string; dataDir?: string | null }): Promise<Database> {
  if (opts.url) {
    const sql = postgres(opts.url, { max: 10, onnotice: () => {} });
    const db = drizzlePostgres(sql, { schema, casing: 'snake_case' });
    // Instances of a cluster may start together: one migrates, the others wait for it.
    try {
      const lock = await sql.reserve();
      try {
        await lock`select pg_advisory_lock(hashtextextended('hubcast:migrate', 0))`;
        await migratePostgres(db, { migrationsFolder });
      } finally {
        await lock`select pg_advisory_unlock(hashtextextended('hubcast:migrate', 0))`.catch(() => {});
        lock.release();
      }
    } catch (err) {
      // A failed start leaves no pool behind: the caller may try again (db/connect.ts).
      await sql.end({ timeout: 0 }).catch(() => {});
      throw err;
    }
    return { db, kind: 'postgres', url: opts.url, close: () => sql.end({ timeout: 5 }) };
  }
  if (opts.dataDir) makePrivateDir(opts.dataDir);
  const client = opts.dataDir ? new PGlite(opts.dataDir) : new PGlite();
  const db = drizzlePglite(client, { schema, casing: 'snake_case' });
  await migratePglite(db, { migrationsFolder });
  if (opts.dataDir) tighten(opts.dataDir);
  return { db, kind: 'pglite', close: () => client.close() };
}
