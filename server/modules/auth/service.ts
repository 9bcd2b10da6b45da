import { randomUUID } from 'node:crypto';
import { and, count, eq, ne, sql } from 'drizzle-orm';
import { AppError } from '../../errors';
import type { Db } from '../../db/client';
import { isUniqueViolation } from '../../db/unique-violation';
import { sessions, users } from '../../db/schema';
import type { EventBus } from '../../realtime/bus';
import { failureReporter } from '../../guarded';
import type { Logger } from '../../log';
import type { SessionUser, SignUpInput } from '../../../shared/auth';
import { hashPassword, verifyPassword } from './password';
import {
  createSession,
  generateSessionToken,
  invalidateSession,
  invalidateUserSessions,
  readSessions,
  validateSessionToken,
  type Session,
  type SessionRow,
} from './session';
import { BatchedRead, STORM_GATHER_MS } from '../../db/batched-read';
import { SessionWatcher, sessionsRevoked } from './session-watch';

export interface SignedIn {
  user: SessionUser;
  token: string;
  session: Session;
}

export class AuthService {
  private readonly watcher: SessionWatcher;
  /**
   * Every session read (a connection's token, each call's current user, a watch's expiry) goes
   * through one coalescing reader: after a deploy thousands of clients reconnect at once, and a
   * query each was most of what a connection cost (issue #21).
   */
  private readonly sessionRows: BatchedRead<string, SessionRow>;
  private readonly hashCost: number;
  // Compared against when the e-mail is unknown, so both failures take the same time.
  private readonly dummyHash: Promise<string>;

  private readonly db: Db;
  private readonly bus: EventBus;
  private readonly adminEmails: string[];
  /** Runs inside the account's transaction, so features can seed rows all-or-nothing. */
  private readonly onUserCreated: (tx: Db, user: SessionUser) => Promise<void>;

  constructor(deps: {
    db: Db;
    bus: EventBus;
    adminEmails: string[];
    passwordHashCost: number;
    onUserCreated: (tx: Db, user: SessionUser) => Promise<void>;
    log?: Logger;
  }) {
    ({
      db: this.db,
      bus: this.bus,
      adminEmails: this.adminEmails,
      onUserCreated: this.onUserCreated,
      passwordHashCost: this.hashCost,
    } = deps);
    this.dummyHash = hashPassword('not-a-real-password', this.hashCost);
    const { db, bus } = deps;
    const rows = (this.sessionRows = new BatchedRead((ids) => readSessions(db, ids), { gatherMs: STORM_GATHER_MS }));
    this.watcher = new SessionWatcher(
      bus,
      async (id) => (await rows.get(id))?.session.expiresAt ?? null,
      deps.log ? failureReporter(deps.log, "ending a session's subscriptions") : undefined,
    );
  }

  async signUp(input: SignUpInput): Promise<SignedIn> {
    const passwordHash = await hashPassword(input.password, this.hashCost);
    let user: SessionUser;
    try {
      user = await this.createUser({ email: input.email, name: input.name, passwordHash });
    } catch (err) {
      if (isUniqueViolation(err))
        throw new AppError('CONFLICT', 'An account with this e-mail already exists: sign in instead.');
      throw err;
    }
    return this.startSession(user);
  }

  async signIn(email: string, password: string): Promise<SignedIn> {
    const [row] = await this.db
      .select()
      .from(users)
      .where(sql`lower(${users.email}) = ${email.toLowerCase()}`);
    const ok = row?.passwordHash
      ? await verifyPassword(row.passwordHash, password)
      : (await verifyPassword(await this.dummyHash, password), false);
    if (!row || !ok) throw new AppError('UNAUTHORIZED', 'Wrong e-mail or password.');
    return this.startSession({ id: row.id, email: row.email, name: row.name, role: row.role });
  }

  /**
   * Finds or creates the account for a Google identity. Only a verified address is trusted: it
   * may take over an account of that e-mail (its password, set by whoever registered the address
   * without proving it, is dropped and that password's sessions end) and it is what makes an
   * ADMIN_EMAILS address admin.
   */
  async signInWithGoogle(profile: {
    googleId: string;
    email: string;
    name: string;
    emailVerified: boolean;
  }): Promise<SignedIn> {
    if (!profile.emailVerified) throw new AppError('FORBIDDEN', 'Your Google account has no verified e-mail address.');
    const email = profile.email.toLowerCase();
    const admin = this.adminEmails.includes(email);
    const [existing] = await this.db
      .select()
      .from(users)
      .where(sql`${users.googleId} = ${profile.googleId} or lower(${users.email}) = ${email}`)
      .orderBy(sql`${users.googleId} = ${profile.googleId} desc nulls last`)
      .limit(1);
    if (existing) {
      const role = admin ? 'admin' : existing.role;
      if (!existing.googleId || existing.passwordHash || role !== existing.role) {
        await this.db
          .update(users)
          .set({ googleId: profile.googleId, passwordHash: null, role })
          .where(eq(users.id, existing.id));
      }
      // Sessions opened with a password nobody proved to own this address: the holder of it may be a squatter.
      if (!existing.googleId && existing.passwordHash) await this.signOutEverywhere(existing.id);
      return this.startSession({ id: existing.id, email: existing.email, name: existing.name, role });
    }
    const user = await this.createUser({ email, name: profile.name, googleId: profile.googleId }, admin);
    return this.startSession(user);
  }

  /** Checks the current password, sets the new one and ends every other session of the user. */
  async changePassword(
    user: SessionUser,
    sessionId: string,
    currentPassword: string,
    newPassword: string,
  ): Promise<void> {
    const [row] = await this.db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, user.id));
    if (!row?.passwordHash)
      throw new AppError('BAD_REQUEST', 'This account signs in with Google and has no password to change.');
    if (!(await verifyPassword(row.passwordHash, currentPassword)))
      throw new AppError('UNAUTHORIZED', 'Your current password is wrong.');
    const passwordHash = await hashPassword(newPassword, this.hashCost);
    const ended = await this.db.transaction(async (tx) => {
      await tx.update(users).set({ passwordHash }).where(eq(users.id, user.id));
      const removed = await tx
        .delete(sessions)
        .where(and(eq(sessions.userId, user.id), ne(sessions.id, sessionId)))
        .returning({ id: sessions.id });
      return removed.map((r) => r.id);
    });
    if (ended.length) this.bus.publish(sessionsRevoked, { sessionIds: ended });
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

  /**
   * The session's user as stored now (its role included), or null once the session is gone or
   * expired: a WebSocket's context is read once, so each call on it asks again.
   */
  async currentUser(sessionId: string): Promise<SessionUser | null> {
    const row = await this.sessionRows.get(sessionId);
    if (!row || row.session.expiresAt.getTime() <= Date.now()) return null;
    return { ...row.user };
  }

  validate(token: string) {
    return validateSessionToken(this.db, token, (id) => this.sessionRows.get(id));
  }

  watchSession(session: Session, requestSignal?: AbortSignal) {
    return this.watcher.watch(session, requestSignal);
  }

  close() {
    this.watcher.close();
  }

  /** `verifiedAdmin`: the address is in ADMIN_EMAILS and its owner proved it (Google). */
  private createUser(
    values: { email: string; name: string; passwordHash?: string; googleId?: string },
    verifiedAdmin = false,
  ): Promise<SessionUser> {
    return this.db.transaction(async (tx) => {
      // Serialise account creation so exactly one "first account" becomes admin.
      await tx.execute(sql`select pg_advisory_xact_lock(4242001)`);
      const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(users);
      // The first account is the operator's on a fresh install; a listed address counts only once verified.
      const role = n === 0 || verifiedAdmin ? 'admin' : 'user';
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
