import { and, asc, ilike, ne, or } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { users } from '../../db/schema';

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** People the caller can invite or share with: never the caller, at most 20. */
export async function searchUsers(db: Db, callerId: string, query: string) {
  const pattern = `%${escapeLike(query)}%`;
  return db
    .select({ id: users.id, name: users.name, email: users.email })
    .from(users)
    .where(and(ne(users.id, callerId), or(ilike(users.name, pattern), ilike(users.email, pattern))))
    .orderBy(asc(users.name))
    .limit(20);
}
