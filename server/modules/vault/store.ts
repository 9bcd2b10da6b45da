import { and, asc, desc, eq, gt, lt, max, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { lockStreams, type Tx } from '../../realtime/record';
import { vaultEvents, vaultSessions, vaultSettings } from '../../db/schema';
import type { StoredEvent } from '../../realtime/resumable';
import type { VaultAttempt, VaultEvent, VaultSession, VaultStatus } from '../../../shared/vault';
import { ZVaultProvider } from '../../../shared/vault';

export type SessionRow = typeof vaultSessions.$inferSelect;
export type SessionPatch = Partial<Omit<typeof vaultSessions.$inferInsert, 'id' | 'provider' | 'label' | 'createdAt'>>;
export interface Settings {
  active: boolean;
  intervalMinutes: number;
  lastRunAt: Date | null;
}

const KEEP_EVENTS = 5_000;
/** The stream key of `vault.events`: its writers serialise on it so ids commit in order. */
export const VAULT_STREAM = 'vault:events';

/** What admins may see of a row: the secret columns never leave this function. */
export function publicSession(row: SessionRow, now: number): VaultSession {
  const expired = row.status === 'active' && row.expiresAt !== null && row.expiresAt.getTime() <= now;
  const status: VaultStatus = expired ? 'expired' : row.status;
  return {
    id: row.id,
    provider: ZVaultProvider.parse(row.provider),
    label: row.label,
    status,
    expiresAt: row.expiresAt,
    lastRefreshAt: row.lastRefreshAt,
    lastError: row.lastError,
    failures: row.failures,
    retryAfter: row.retryAfter,
    updatedAt: row.updatedAt,
  };
}

/** The vault's tables; callers pass `tx` when the write belongs to a refresh's transaction. */
export class VaultStore {
  constructor(readonly db: Db) {}

  async list(): Promise<SessionRow[]> {
    return this.db.select().from(vaultSessions).orderBy(asc(vaultSessions.provider), asc(vaultSessions.label));
  }

  async get(id: number, tx: Db = this.db): Promise<SessionRow | undefined> {
    const [row] = await tx.select().from(vaultSessions).where(eq(vaultSessions.id, id));
    return row;
  }

  async find(provider: string, label: string, tx: Db = this.db): Promise<SessionRow | undefined> {
    const [row] = await tx
      .select()
      .from(vaultSessions)
      .where(and(eq(vaultSessions.provider, provider), eq(vaultSessions.label, label)));
    return row;
  }

  /**
   * The session a consumer uses when it names none: an active one before any other, then the
   * one saved or refreshed last (an admin who just pasted a cookie means that one). A label is
   * for people, not a key.
   */
  async pick(provider: string, tx: Db = this.db): Promise<SessionRow | undefined> {
    const [row] = await tx
      .select()
      .from(vaultSessions)
      .where(eq(vaultSessions.provider, provider))
      .orderBy(desc(sql`${vaultSessions.status} = 'active'`), desc(vaultSessions.updatedAt), desc(vaultSessions.id))
      .limit(1);
    return row;
  }

  /** Insert or replace by (provider, label): a pasted cookie replaces the old session's secrets. */
  async upsert(values: typeof vaultSessions.$inferInsert, tx: Db = this.db): Promise<SessionRow> {
    const { provider: _p, label: _l, ...patch } = values;
    const [row] = await tx
      .insert(vaultSessions)
      .values(values)
      .onConflictDoUpdate({
        target: [vaultSessions.provider, vaultSessions.label],
        set: { ...patch, version: sql`${vaultSessions.version} + 1`, updatedAt: new Date() },
      })
      .returning();
    return row!;
  }

  /** Only if the row is still at `version`: undefined when someone saved new secrets meanwhile. */
  async update(
    id: number,
    version: number,
    patch: SessionPatch,
    tx: Db = this.db,
    bumpVersion = false,
  ): Promise<SessionRow | undefined> {
    const [row] = await tx
      .update(vaultSessions)
      .set({ ...patch, ...(bumpVersion ? { version: sql`${vaultSessions.version} + 1` } : {}), updatedAt: new Date() })
      .where(and(eq(vaultSessions.id, id), eq(vaultSessions.version, version)))
      .returning();
    return row;
  }

  /** Inside `recordThenPublish` only, as the transaction's last statement (it takes the stream lock). */
  async recordEvent(tx: Tx, event: VaultEvent, sessionId: number | null): Promise<StoredEvent<VaultEvent>> {
    await lockStreams(tx, [VAULT_STREAM]);
    const [row] = await tx
      .insert(vaultEvents)
      .values({ type: event.type, sessionId, payload: event })
      .returning({ id: vaultEvents.id });
    return { id: row!.id, data: event };
  }

  /** The newest event id (0 when none): the stream's resume point for a new subscriber. */
  async head(): Promise<number> {
    const [row] = await this.db.select({ id: max(vaultEvents.id) }).from(vaultEvents);
    return row?.id ?? 0;
  }

  async replay(afterId: number, limit: number): Promise<StoredEvent<VaultEvent>[]> {
    const rows = await this.db
      .select()
      .from(vaultEvents)
      .where(gt(vaultEvents.id, afterId))
      .orderBy(asc(vaultEvents.id))
      .limit(limit);
    return rows.map((r) => ({ id: r.id, data: revive(r.payload as VaultEvent) }));
  }

  async attempts(sessionId: number | undefined, limit: number): Promise<(VaultAttempt & { id: number })[]> {
    const rows = await this.db
      .select()
      .from(vaultEvents)
      .where(and(eq(vaultEvents.type, 'attempt'), sessionId ? eq(vaultEvents.sessionId, sessionId) : undefined))
      .orderBy(desc(vaultEvents.id))
      .limit(limit);
    return rows.map((r) => {
      const e = revive(r.payload as VaultEvent);
      return { id: r.id, ...(e as Extract<VaultEvent, { type: 'attempt' }>).attempt };
    });
  }

  /** The session's newest event (a save or an attempt), read in `tx` when under a refresh's lock. */
  async lastEvent(sessionId: number, tx: Db = this.db): Promise<VaultEvent | undefined> {
    const [row] = await tx
      .select({ payload: vaultEvents.payload })
      .from(vaultEvents)
      .where(eq(vaultEvents.sessionId, sessionId))
      .orderBy(desc(vaultEvents.id))
      .limit(1);
    return row && revive(row.payload as VaultEvent);
  }

  /** Keeps the newest few thousand events (a retention job); returns how many went. */
  async pruneEvents(): Promise<number> {
    const [newest] = await this.db
      .select({ id: vaultEvents.id })
      .from(vaultEvents)
      .orderBy(desc(vaultEvents.id))
      .limit(1);
    if (!newest || newest.id <= KEEP_EVENTS) return 0;
    const gone = await this.db
      .delete(vaultEvents)
      .where(lt(vaultEvents.id, newest.id - KEEP_EVENTS))
      .returning({ id: vaultEvents.id });
    return gone.length;
  }

  async settings(): Promise<Settings | null> {
    const [row] = await this.db.select().from(vaultSettings).where(eq(vaultSettings.id, 1));
    return row ? { active: row.active, intervalMinutes: row.intervalMinutes, lastRunAt: row.lastRunAt } : null;
  }

  /**
   * An admin's change: on/off and the interval only. The last run is the sweeps' to record
   * (markRun), so neither write can put back an older value of what the other one owns, even
   * when they come from two instances whose copies of the settings differ.
   */
  async saveSettings(s: Settings, updatedBy: string | null) {
    const set = { active: s.active, intervalMinutes: s.intervalMinutes, updatedBy, updatedAt: new Date() };
    await this.db
      .insert(vaultSettings)
      .values({ id: 1, ...set, lastRunAt: s.lastRunAt })
      .onConflictDoUpdate({ target: vaultSettings.id, set });
  }

  /** A sweep ran at `at`; `current` is only used when no settings are stored yet. */
  async markRun(at: Date, current: Settings) {
    await this.db
      .insert(vaultSettings)
      .values({
        id: 1,
        active: current.active,
        intervalMinutes: current.intervalMinutes,
        lastRunAt: at,
        updatedBy: null,
        updatedAt: new Date(),
      })
      .onConflictDoUpdate({ target: vaultSettings.id, set: { lastRunAt: at } });
  }
}

/** jsonb hands dates back as strings; the stream's readers expect Date objects. */
function revive(e: VaultEvent): VaultEvent {
  const session = (s: VaultSession): VaultSession => ({
    ...s,
    expiresAt: date(s.expiresAt),
    lastRefreshAt: date(s.lastRefreshAt),
    retryAfter: date(s.retryAfter),
    updatedAt: date(s.updatedAt)!,
  });
  if (e.type === 'attempt')
    return { ...e, attempt: { ...e.attempt, at: date(e.attempt.at)! }, session: session(e.session) };
  if (e.type === 'session_saved') return { ...e, session: session(e.session) };
  return {
    ...e,
    scheduler: { ...e.scheduler, lastRunAt: date(e.scheduler.lastRunAt), nextRunAt: date(e.scheduler.nextRunAt) },
  };
}

function date(v: Date | string | null): Date | null {
  return v === null ? null : new Date(v);
}
