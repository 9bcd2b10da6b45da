import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { sessions, users } from '../../db/schema';
import type { SessionUser } from '../../../shared/auth';

// The Lucia session design (lucia-auth.com/sessions): the client holds a random token,
// the database holds only its SHA-256, so a leaked sessions table cannot be replayed.
const DAY = 24 * 60 * 60 * 1000;
export const SESSION_TTL_MS = 30 * DAY;
const RENEW_WITHIN_MS = 15 * DAY;

export interface Session {
  id: string;
  userId: string;
  expiresAt: Date;
}

export type SessionValidation = { session: Session; user: SessionUser } | { session: null; user: null };

export function generateSessionToken(): string {
  const bytes = new Uint8Array(20);
  crypto.getRandomValues(bytes);
  return encodeBase32LowerCaseNoPadding(bytes);
}

export function sessionIdFromToken(token: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(token)));
}

export async function createSession(db: Db, token: string, userId: string): Promise<Session> {
  const session = { id: sessionIdFromToken(token), userId, expiresAt: new Date(Date.now() + SESSION_TTL_MS) };
  await db.insert(sessions).values(session);
  return session;
}

export type SessionRow = { session: Session; user: SessionUser };

/** The sessions of these ids with their users, by id: one query however many (BatchedRead in AuthService). */
export async function readSessions(db: Db, ids: string[]): Promise<Map<string, SessionRow>> {
  const rows = await db
    .select({
      session: { id: sessions.id, userId: sessions.userId, expiresAt: sessions.expiresAt },
      user: { id: users.id, email: users.email, name: users.name, role: users.role },
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(ids.length === 1 ? eq(sessions.id, ids[0]!) : inArray(sessions.id, ids));
  return new Map(rows.map((r) => [r.session.id, r]));
}

export async function validateSessionToken(
  db: Db,
  token: string,
  read: (id: string) => Promise<SessionRow | undefined> = async (id) => (await readSessions(db, [id])).get(id),
): Promise<SessionValidation> {
  const id = sessionIdFromToken(token);
  // A row of its own: a batched read hands the same row to every reader of the session.
  const found = await read(id);
  const row = found && { session: { ...found.session }, user: { ...found.user } };
  if (!row) return { session: null, user: null };
  const { session, user } = row;
  if (Date.now() >= session.expiresAt.getTime()) {
    await db.delete(sessions).where(eq(sessions.id, id));
    return { session: null, user: null };
  }
  // Sliding expiry: an active session is pushed forward, at most once per half-lifetime.
  if (Date.now() >= session.expiresAt.getTime() - RENEW_WITHIN_MS) {
    session.expiresAt = new Date(Date.now() + SESSION_TTL_MS);
    await db.update(sessions).set({ expiresAt: session.expiresAt }).where(eq(sessions.id, id));
  }
  return { session, user };
}

export async function invalidateSession(db: Db, sessionId: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, sessionId));
}

/** Returns the ids it removed, so open subscriptions on them can be ended. */
export async function invalidateUserSessions(db: Db, userId: string): Promise<string[]> {
  const removed = await db.delete(sessions).where(eq(sessions.userId, userId)).returning({ id: sessions.id });
  return removed.map((r) => r.id);
}
