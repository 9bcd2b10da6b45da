import { openDatabase } from '../../server/db/client';
import { databaseUrlWithName, templateDatabaseName, withAdminConnection } from '../helpers/postgres';

/**
 * With DATABASE_URL set, migrate one template database once; every test file then gets a
 * fresh copy of it (CREATE DATABASE … TEMPLATE), so files run in parallel on clean data.
 * Without it, each file migrates its own in-memory PGlite.
 */
export default async function setup() {
  const url = process.env.DATABASE_URL;
  if (!url) return;
  const template = templateDatabaseName(url);
  await withAdminConnection(url, async (sql) => {
    await sql.unsafe(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
    await sql.unsafe(`CREATE DATABASE "${template}"`);
  });
  const db = await openDatabase({ url: databaseUrlWithName(url, template) });
  await db.close();
  return async () => {
    await withAdminConnection(url, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`));
  };
}
