import { randomBytes } from 'node:crypto';
import { openDatabase, type Database } from '../../server/db/client';
import { databaseUrlWithName, templateDatabaseName, withAdminConnection } from './postgres';

/** A fresh, migrated database for one test file: in-memory PGlite, or a Postgres copy of the template. */
export async function createTestDatabase(): Promise<Database> {
  const url = process.env.DATABASE_URL;
  if (!url) return openDatabase({ dataDir: null });
  const name = `${templateDatabaseName(url).replace(/_template$/, '')}_t${randomBytes(5).toString('hex')}`;
  await withAdminConnection(url, (sql) => sql.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${templateDatabaseName(url)}"`));
  const database = await openDatabase({ url: databaseUrlWithName(url, name) });
  return {
    ...database,
    async close() {
      await database.close();
      await withAdminConnection(url, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
