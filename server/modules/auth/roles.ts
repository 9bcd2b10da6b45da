import { and, count, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { sessions, users } from '../../db/schema';
import { AppError } from '../../errors';

export type RoleChange = { email: string; role: 'admin' | 'user'; changed: boolean; endedSessions: string[] };

/**
 * The operator's way to make a password account admin (or stop one being admin), run locally
 * with the server's environment: no API can do it, so a stolen admin session cannot make more.
 * Revoking ends the person's sessions, so nothing opened as admin (a vault stream) stays open.
 */
export async function setRole(db: Db, email: string, role: 'admin' | 'user'): Promise<RoleChange> {
  return db.transaction(async (tx) => {
    // The lock account creation takes: no "first account" or second revoke slips in between.
    await tx.execute(sql`select pg_advisory_xact_lock(4242001)`);
    const [row] = await tx
      .select({ id: users.id, email: users.email, role: users.role })
      .from(users)
      .where(sql`lower(${users.email}) = ${email.toLowerCase()}`);
    if (!row)
      throw new AppError('NOT_FOUND', `No account has the e-mail ${email}: check the spelling, or sign up first.`);
    if (row.role === role) return { email: row.email, role, changed: false, endedSessions: [] };
    if (role === 'user') {
      const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(users).where(eq(users.role, 'admin'));
      if (n <= 1)
        throw new AppError('CONFLICT', `${row.email} is the last administrator: grant another account admin first.`);
    }
    await tx.update(users).set({ role }).where(eq(users.id, row.id));
    const ended =
      role === 'user'
        ? await tx
            .delete(sessions)
            .where(and(eq(sessions.userId, row.id)))
            .returning({ id: sessions.id })
        : [];
    return { email: row.email, role, changed: true, endedSessions: ended.map((s) => s.id) };
  });
}
