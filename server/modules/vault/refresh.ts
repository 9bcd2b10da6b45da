import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { backoff } from '../../backoff';
import type { Logger } from '../../log';
import type { StreamLog, Tx } from '../../realtime/record';
import type { StoredEvent } from '../../realtime/resumable';
import type { AttemptOutcome, AttemptTrigger, RefreshResult, VaultEvent } from '../../../shared/vault';
import type { SecretBox } from './secret-box';
import { RefreshError, type Provider } from './providers/types';
import { publicSession, type SessionPatch, type SessionRow, type VaultStore } from './store';

// First key of every vault advisory lock; the second is the session id (0: the scheduler sweep).
export const VAULT_LOCK = 0x5641_554c;
const MAX_BACKOFF_MS = 6 * 3_600_000;
// A "refresh now" this soon after a successful refresh answers with it: ten admins clicking
// at once, some just after the first one finished, make one upstream call, not several.
export const RECENT_SUCCESS_MS = 5_000;

export interface RefresherDeps {
  db: Db;
  streams: StreamLog;
  /** Postgres: several instances may share the rows, so refreshes also lock in the database. */
  databaseKind: 'pglite' | 'postgres';
  store: VaultStore;
  box: SecretBox;
  providers: Map<string, Provider>;
  log: Logger;
  now: () => number;
  /** Called after the attempt's row is committed, never inside the transaction. */
  publish: (event: StoredEvent<VaultEvent>) => void;
}

export class NoSuchSessionError extends Error {}

interface Refreshed {
  outcome: AttemptOutcome;
  patch: SessionPatch;
  bump: boolean;
}
interface Done {
  result: RefreshResult;
  event: StoredEvent<VaultEvent> | null;
}

/**
 * One refresh per session at a time. In process, callers join the refresh in flight. Across
 * instances (Postgres) a transaction-scoped advisory lock on the session is held through the
 * upstream call, because Vinted rotates its refresh token: a second refresh with the old one
 * is answered 401 and would mark a healthy session revoked. Whoever waited re-reads the row
 * and skips the upstream call when the version moved meanwhile. PGlite is one connection in
 * one process, so the in-process single flight is already complete there, and holding a
 * transaction through an HTTP call would stall every other query.
 *
 * A caller that names no version (an admin's "refresh now") also takes the session's last
 * successful refresh, when it is only seconds old and nothing was saved since, as its answer.
 * That is read from the stored attempts under the same lock, so it holds across instances.
 */
export class Refresher {
  private readonly inflight = new Map<number, Promise<RefreshResult>>();

  constructor(private readonly deps: RefresherDeps) {}

  /** `seenVersion`: the version the caller decided on (a 401 on it, an expiry read from it). */
  refresh(sessionId: number, trigger: AttemptTrigger, seenVersion?: number): Promise<RefreshResult> {
    let running = this.inflight.get(sessionId);
    if (!running) {
      running = this.run(sessionId, trigger, seenVersion).finally(() => this.inflight.delete(sessionId));
      this.inflight.set(sessionId, running);
    }
    return running;
  }

  async idle() {
    await Promise.allSettled([...this.inflight.values()]);
  }

  private async run(sessionId: number, trigger: AttemptTrigger, seenVersion?: number): Promise<RefreshResult> {
    const { db, streams, store, now } = this.deps;
    const before = seenVersion ?? (await store.get(sessionId))?.version;
    if (before === undefined)
      throw new NoSuchSessionError(`No vault session ${sessionId}: list them with vault.sessions.`);
    const publish = (done: Done) => done.event && this.deps.publish(done.event);
    // Someone refreshed (or saved) while we waited: their result stands, no upstream call.
    const moved = (row: SessionRow): Done => ({
      result: { outcome: 'success', session: publicSession(row, now()) },
      event: null,
    });
    const answered = async (tx: Db, row: SessionRow) =>
      row.version !== before || (seenVersion === undefined && (await this.justRefreshed(tx, row.id)));
    if (this.deps.databaseKind === 'postgres') {
      const done = await streams.recordThenPublish(
        [],
        async (tx) => {
          await tx.execute(sql`select pg_advisory_xact_lock(${VAULT_LOCK}, ${sessionId})`);
          const row = await this.read(tx, sessionId);
          if (await answered(tx, row)) return moved(row);
          const started = performance.now();
          return this.write(tx, row, trigger, await this.tryRefresh(row), started);
        },
        publish,
      );
      return done.result;
    }
    const row = await this.read(db, sessionId);
    if (await answered(db, row)) return moved(row).result;
    const started = performance.now();
    const refreshed = await this.tryRefresh(row);
    return (await streams.recordThenPublish([], (tx) => this.write(tx, row, trigger, refreshed, started), publish))
      .result;
  }

  /** Is the session's newest event a successful attempt from the last few seconds (no save after it)? */
  private async justRefreshed(tx: Db, sessionId: number) {
    const last = await this.deps.store.lastEvent(sessionId, tx);
    return (
      last?.type === 'attempt' &&
      last.attempt.outcome === 'success' &&
      this.deps.now() - last.attempt.at.getTime() < RECENT_SUCCESS_MS
    );
  }

  private async read(tx: Db, sessionId: number): Promise<SessionRow> {
    const row = await this.deps.store.get(sessionId, tx);
    if (!row) throw new NoSuchSessionError(`No vault session ${sessionId}: it was deleted.`);
    return row;
  }

  /** Stores the outcome and records the attempt; the caller's recordThenPublish publishes it after commit. */
  private async write(
    tx: Tx,
    row: SessionRow,
    trigger: AttemptTrigger,
    refreshed: Refreshed,
    started: number,
  ): Promise<Done> {
    const { store, now } = this.deps;
    const { outcome, patch, bump } = refreshed;
    const updated = await store.update(row.id, row.version, patch, tx, bump);
    // An admin pasted new secrets during the upstream call: theirs win, this result is void.
    if (!updated)
      return {
        result: { outcome: 'success', session: publicSession((await store.get(row.id, tx))!, now()) },
        event: null,
      };
    const session = publicSession(updated, now());
    const attempt = {
      sessionId: row.id,
      provider: session.provider,
      label: session.label,
      trigger,
      outcome,
      message: outcome === 'success' ? null : updated.lastError,
      durationMs: Math.round(performance.now() - started),
      at: new Date(now()),
    };
    const event = await store.recordEvent(tx, { type: 'attempt', attempt, session }, row.id);
    return { result: { outcome, session }, event };
  }

  private async tryRefresh(row: SessionRow): Promise<Refreshed> {
    const { box, providers, now, log } = this.deps;
    const provider = providers.get(row.provider);
    const fail = (outcome: AttemptOutcome, message: string) => {
      const failures = row.failures + 1;
      const wait = backoff(failures, 60_000, MAX_BACKOFF_MS);
      const status = outcome === 'requires_configuration' ? ('requires_configuration' as const) : ('error' as const);
      return {
        outcome,
        bump: false,
        patch: { status, lastError: message, failures, retryAfter: new Date(now() + wait) },
      };
    };
    if (!provider)
      return fail(
        'requires_configuration',
        `No provider "${row.provider}" in this version of Hubcast: delete the session or upgrade.`,
      );
    try {
      const secrets = box.open(row);
      const next = await provider.refresh(secrets);
      return {
        outcome: 'success',
        bump: true,
        patch: {
          ...box.seal(row.provider, next),
          status: 'active',
          expiresAt: provider.expiresAt(next),
          lastRefreshAt: new Date(now()),
          lastError: null,
          failures: 0,
          retryAfter: null,
        },
      };
    } catch (err) {
      if (err instanceof RefreshError)
        return fail(err.kind === 'configuration' ? 'requires_configuration' : 'error', err.message);
      if (box.isKeyError(err)) return fail('requires_configuration', (err as Error).message);
      // Never the error's own text: an upstream library may quote headers (and so a cookie) in it.
      log.error(
        { sessionId: row.id, provider: row.provider, errName: err instanceof Error ? err.name : typeof err },
        'vault refresh failed unexpectedly',
      );
      return fail(
        'error',
        'The refresh failed inside Hubcast (see the server log); try again, or run `npm run cli -- vault diagnose`.',
      );
    }
  }
}
