import { and, eq, getTableColumns, type InferInsertModel, type InferSelectModel } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from './client';

/**
 * Idempotent create: inserts `values` unless a row with the same `key` columns exists, and
 * returns that row either way (`created` says which). The key must be a unique constraint
 * (e.g. a client-chosen id: chat's `send({ clientId })`, collections' import of one code).
 * Safe under concurrent calls on Postgres: ON CONFLICT DO NOTHING waits for the other
 * writer's transaction, and the following SELECT (READ COMMITTED) then sees its row.
 * A key may be a nullable column (optional in the insert type, like collections' source
 * code): it must be set in `values`, since NULLs never conflict.
 */
export async function insertOnce<TTable extends PgTable, K extends keyof InferSelectModel<TTable> & string>(
  db: Db,
  table: TTable,
  values: InferInsertModel<TTable>,
  key: readonly [K, ...K[]],
): Promise<{ row: InferSelectModel<TTable>; created: boolean }> {
  const columns = getTableColumns(table);
  const target = key.map((k) => columns[k]!);
  const match = and(...key.map((k) => eq(columns[k]!, values[k as keyof InferInsertModel<TTable>])));
  // Twice at most: a row that is deleted between our conflict and our read is simply inserted again.
  for (let attempt = 0; ; attempt++) {
    const [inserted] = await db.insert(table).values(values).onConflictDoNothing({ target }).returning();
    // Drizzle cannot resolve the row type of a generic table; both rows are the table's select model.
    if (inserted) return { row: inserted as InferSelectModel<TTable>, created: true };
    const [existing] = await db
      .select()
      .from(table as PgTable)
      .where(match)
      .limit(1);
    if (existing) return { row: existing as InferSelectModel<TTable>, created: false };
    if (attempt === 1) throw new Error(`insertOnce: the row keyed by ${key.join(', ')} keeps disappearing`);
  }
}
