import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { openDatabase } from '../../server/db/client';
import { databaseUrlWithName, templateDatabaseName, withAdminConnection } from '../helpers/postgres';

/**
 * With DATABASE_URL set, migrate one template database once; every test file then gets a
 * fresh copy of it (CREATE DATABASE … TEMPLATE), so files run in parallel on clean data.
 * Without it, each file migrates its own in-memory PGlite.
 */
export default async function setup() {
  // Browser tests load the real built client from the real server: build it once per run.
  await build({ configFile: fileURLToPath(new URL('../../client/vite.config.ts', import.meta.url)), logLevel: 'warn' });
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
