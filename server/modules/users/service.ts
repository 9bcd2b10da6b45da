import { and, asc, ilike, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { users } from '../../db/schema';

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * People the caller can invite or share with: never the caller, at most 20. Matches a part of
 * a name, or a whole e-mail address; an address is shown only to whoever typed it in full, so
 * the search cannot be used to list everyone's e-mail.
 */
export async function searchUsers(db: Db, callerId: string, query: string) {
  const email = query.toLowerCase();
  const exactEmail = sql<boolean>`lower(${users.email}) = ${email}`;
  const rows = await db
    .select({ id: users.id, name: users.name, email: users.email, exact: exactEmail })
    .from(users)
    .where(and(ne(users.id, callerId), or(ilike(users.name, `%${escapeLike(query)}%`), exactEmail)))
    .orderBy(asc(users.name))
    .limit(20);
  return rows.map(({ exact, ...u }) => ({ ...u, email: exact ? u.email : null }));
}
