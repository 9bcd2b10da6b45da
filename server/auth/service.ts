import { randomUUID } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { count, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { sessions, users } from '../db/schema';
import type { EventBus } from '../realtime/bus';
import type { SessionUser, SignUpInput } from '../../shared/auth';
import { hashPassword, verifyPassword } from './password';
import {
  createSession,
  generateSessionToken,
  invalidateSession,
  invalidateUserSessions,
  validateSessionToken,
  type Session,
} from './session';
import { SessionWatcher, sessionsRevoked } from './session-watch';

export interface SignedIn {
  user: SessionUser;
  token: string;
  session: Session;
}

const isUniqueViolation = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && ((err as { code?: string }).code === '23505' || isUniqueViolation((err as { cause?: unknown }).cause));

export class AuthService {
  private readonly watcher: SessionWatcher;
  private readonly hashCost: number;
  // Compared against when the e-mail is unknown, so both failures take the same time.
  private readonly dummyHash: Promise<string>;

  private readonly db: Db;
  private readonly bus: EventBus;
  private readonly adminEmails: string[];
  /** Runs inside the account's transaction, so features can seed rows all-or-nothing. */
  private readonly onUserCreated: (tx: Db, user: SessionUser) => Promise<void>;

  constructor(deps: { db: Db; bus: EventBus; adminEmails: string[]; passwordHashCost: number; onUserCreated: (tx: Db, user: SessionUser) => Promise<void> }) {
    ({ db: this.db, bus: this.bus, adminEmails: this.adminEmails, onUserCreated: this.onUserCreated, passwordHashCost: this.hashCost } = deps);
    this.dummyHash = hashPassword('not-a-real-password', this.hashCost);
    const { db, bus } = deps;
    this.watcher = new SessionWatcher(bus, async (id) => {
      const [row] = await db.select({ expiresAt: sessions.expiresAt }).from(sessions).where(eq(sessions.id, id));
      return row?.expiresAt ?? null;
    });
  }

  async signUp(input: SignUpInput): Promise<SignedIn> {
    const passwordHash = await hashPassword(input.password, this.hashCost);
    let user: SessionUser;
    try {
      user = await this.createUser({ email: input.email, name: input.name, passwordHash });
    } catch (err) {
      if (isUniqueViolation(err)) throw new TRPCError({ code: 'CONFLICT', message: 'An account with this e-mail already exists: sign in instead.' });
      throw err;
    }
    return this.startSession(user);
  }

  async signIn(email: string, password: string): Promise<SignedIn> {
    const [row] = await this.db
      .select()
      .from(users)
      .where(sql`lower(${users.email}) = ${email.toLowerCase()}`);
    const ok = row?.passwordHash ? await verifyPassword(row.passwordHash, password) : (await verifyPassword(await this.dummyHash, password), false);
    if (!row || !ok) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Wrong e-mail or password.' });
    return this.startSession({ id: row.id, email: row.email, name: row.name, role: row.role });
  }

  /** Finds or creates the account for a Google identity (e-mail verified by Google). */
  async signInWithGoogle(profile: { googleId: string; email: string; name: string }): Promise<SignedIn> {
    const email = profile.email.toLowerCase();
    const [existing] = await this.db
      .select()
      .from(users)
      .where(sql`${users.googleId} = ${profile.googleId} or lower(${users.email}) = ${email}`);
    if (existing) {
      if (!existing.googleId) await this.db.update(users).set({ googleId: profile.googleId }).where(eq(users.id, existing.id));
      return this.startSession({ id: existing.id, email: existing.email, name: existing.name, role: existing.role });
    }
    const user = await this.createUser({ email, name: profile.name, googleId: profile.googleId });
    return this.startSession(user);
  }

  async signOut(sessionId: string): Promise<void> {
    await invalidateSession(this.db, sessionId);
    this.bus.publish(sessionsRevoked, { sessionIds: [sessionId] });
  }

  /** On password change or account compromise: every device is signed out. */
  async signOutEverywhere(userId: string): Promise<void> {
    const sessionIds = await invalidateUserSessions(this.db, userId);
    if (sessionIds.length) this.bus.publish(sessionsRevoked, { sessionIds });
  }

  /** Whether a session (by id) still exists and has not expired. */
  async isActive(sessionId: string): Promise<boolean> {
    const [row] = await this.db.select({ expiresAt: sessions.expiresAt }).from(sessions).where(eq(sessions.id, sessionId));
    return row !== undefined && row.expiresAt.getTime() > Date.now();
  }

  validate(token: string) {
    return validateSessionToken(this.db, token);
  }

  watchSession(session: Session, requestSignal?: AbortSignal) {
    return this.watcher.watch(session, requestSignal);
  }

  close() {
    this.watcher.close();
  }

  private createUser(values: { email: string; name: string; passwordHash?: string; googleId?: string }): Promise<SessionUser> {
    return this.db.transaction(async (tx) => {
      // Serialise account creation so exactly one "first account" becomes admin.
      await tx.execute(sql`select pg_advisory_xact_lock(4242001)`);
      const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(users);
      const role = n === 0 || this.adminEmails.includes(values.email) ? 'admin' : 'user';
      const [row] = await tx
        .insert(users)
        .values({ id: randomUUID(), ...values, role })
        .returning({ id: users.id, email: users.email, name: users.name, role: users.role });
      await this.onUserCreated(tx, row!);
      return row!;
    });
  }

  private async startSession(user: SessionUser): Promise<SignedIn> {
    const token = generateSessionToken();
    const session = await createSession(this.db, token, user.id);
    return { user, token, session };
  }
}
