import { sql } from 'drizzle-orm';
import type { App } from '../../server/app';

export type RowCounts = Record<string, number>;

const tablesOf = new WeakMap<App, string[]>();

// Bookkeeping, not user data: a refused call still counts against its rate limit (that is the
// point of one), instances write heartbeats, and large bus messages pass through by reference.
const BOOKKEEPING = new Set(['rate_limits', 'cluster_instances', 'bus_payloads']);

/** Rows in every table of the app's database (migrations bookkeeping included, counters and heartbeats not), in one statement. */
export async function rowCounts(app: App): Promise<RowCounts> {
  let tables = tablesOf.get(app);
  if (!tables) {
    const listed = rowsOf<{ s: string; t: string }>(
      await app.db.execute(
        sql`select table_schema as s, table_name as t from information_schema.tables where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2`,
      ),
    );
    tables = listed.filter(({ t }) => !BOOKKEEPING.has(t)).map(({ s, t }) => `"${s}"."${t}"`);
    tablesOf.set(app, tables);
  }
  const [row] = rowsOf<Record<string, number | string>>(
    await app.db.execute(
      sql.raw(`select ${tables.map((t, i) => `(select count(*) from ${t})::int as c${i}`).join(', ')}`),
    ),
  );
  return Object.fromEntries(tables.map((t, i) => [t, Number(row![`c${i}`])]));
}

/** "table: before → after" for every table whose count moved. */
export function rowChanges(before: RowCounts, after: RowCounts): string[] {
  return Object.keys(after).flatMap((t) =>
    before[t] === after[t] ? [] : [`rows changed in ${t}: ${before[t]} → ${after[t]}`],
  );
}

// postgres.js answers with an array of rows, PGlite with { rows }.
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
