import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../server/db/client';
import { afterThis } from './cleanup';
import { databaseUrlWithName, templateDatabaseName, withAdminConnection } from './postgres';

/** A fresh, migrated database for one test file: in-memory PGlite, or a Postgres copy of the template. */
export async function createTestDatabase(): Promise<Database> {
  const url = process.env.DATABASE_URL;
  if (!url) return openDatabase({ dataDir: null });
  const name = `${templateDatabaseName(url).replace(/_template$/, '')}_t${randomBytes(5).toString('hex')}`;
  await withAdminConnection(url, (sql) =>
    sql.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${templateDatabaseName(url)}"`),
  );
  const database = await openDatabase({ url: databaseUrlWithName(url, name) });
  return {
    ...database,
    async close() {
      await database.close();
      await withAdminConnection(url, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/**
 * The same stored data opened as often as asked, as a restarted server would open it: a fresh
 * Postgres copy of the template, or a PGlite directory of its own. Removed when the test (or the
 * file) that asked for it is done.
 */
export async function reopenableDatabase(prefix: string): Promise<() => Promise<Database>> {
  const base = await createTestDatabase();
  if (base.url) {
    afterThis(() => base.close());
    const { url } = base;
    return () => openDatabase({ url });
  }
  await base.close();
  const dataDir = mkdtempSync(join(tmpdir(), `hubcast-${prefix}-`));
  afterThis(() => rmSync(dataDir, { recursive: true, force: true }));
  return () => openDatabase({ dataDir });
}
