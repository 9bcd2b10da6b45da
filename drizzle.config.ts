import { defineConfig } from 'drizzle-kit';

// Generation only diffs the schema files; it never connects to a database.
export default defineConfig({
  dialect: 'postgresql',
  schema: './server/db/schema/index.ts',
  out: './drizzle',
  casing: 'snake_case',
});
