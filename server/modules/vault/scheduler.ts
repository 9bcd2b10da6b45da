import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import type { Logger } from '../../log';
import { guarded } from '../../guarded';
import { nextDue, refreshable } from './due';
import type { VaultScheduler } from '../../../shared/vault';
import type { Provider } from './providers/types';
import { VAULT_LOCK, type Refresher } from './refresh';
import type { SecretBox } from './secret-box';
import type { Settings, VaultStore } from './store';

export interface SchedulerDeps {
  db: Db;
  databaseKind: 'pglite' | 'postgres';
  store: VaultStore;
  box: SecretBox;
  providers: Map<string, Provider>;
  refresher: Refresher;
  log: Logger;
  now: () => number;
  /** Real milliseconds in one scheduler minute (60 000 except in tests). */
  minuteMs: number;
  defaults: { active: boolean; intervalMinutes: number };
  /** Announces a changed state (start, stop, restart) to admins. */
  changed: (state: VaultScheduler) => Promise<void>;
  /** With several instances only this singleton's leader sweeps on schedule (absent: always). */
  leader?: { isLeader(): boolean };
}

// Refresh what expires before the next run plus this much, so a late run is still in time.
const MARGIN_MS = 60_000;
// A follower whose wake-up came looks again this much later, in case the leader is gone.
const FOLLOWER_RECHECK_MS = 30_000;
// Wake-ups at least this far apart: a sweep that found another instance's under way (the lock
// was taken) leaves its session due, and must not be retried in a tight loop.
const WAKE_GAP_MS = 5_000;

/**
 * Refreshes every session that would expire before the next run. The admin's start/stop and
 * interval are stored, so a restart resumes the same schedule. With several instances, one
 * sweep at a time: the instance that wins a transaction-scoped advisory lock does the work.
 *
 * Between runs it also wakes up for the session that expires first (`replan`, after every sweep
 * and every saved session or attempt on the bus, whichever instance made it): a session saved
 * after a run, or a token shorter-lived than the interval, is refreshed in time instead of at
 * the next run. Every instance plans; only the leader sweeps when woken.
 */
export class Scheduler {
  private settings: Settings;
  private timer: NodeJS.Timeout | null = null;
  /** The wake-up for the session due first, when that comes before the next regular run. */
  private dueTimer: NodeJS.Timeout | null = null;
  /** Plans started so far: a plan that read the sessions before a newer one did is dropped. */
  private plans = 0;
  private lastWake = -Infinity;
  private nextRunAt: number | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  /** Local changes so far: a reload that started before one is stale. */
  private changes = 0;

  /** Every timer's callback; guarded: nothing thrown in it (by a provider, the database) may end the process. */
  private readonly tick: () => void;
  private readonly wake: () => void;
  /** `replan` for callers that cannot wait on it (timers, the end of a sweep); logs its failures. */
  readonly replanQuietly: () => void;

  constructor(private readonly deps: SchedulerDeps) {
    this.settings = { ...deps.defaults, lastRunAt: null };
    this.tick = guarded(
      deps.log,
      'vault scheduler timer',
      () => {
        // Followers keep their timer, so the one that takes over sweeps on time.
        if (!this.leads()) return this.schedule();
        return this.runOnce()
          .catch((err) =>
            this.deps.log.error(
              { errName: err instanceof Error ? err.name : typeof err },
              'vault scheduler run failed',
            ),
          )
          .finally(() => this.schedule());
      },
      { nameOnly: true },
    );
    this.wake = guarded(
      deps.log,
      'vault scheduler wake-up',
      () => {
        this.dueTimer = null;
        if (!this.leads()) return this.armDue(this.deps.now() + FOLLOWER_RECHECK_MS);
        this.lastWake = this.deps.now();
        // The sweep plans the next wake-up when it ends.
        return this.runOnce();
      },
      { nameOnly: true },
    );
    this.replanQuietly = guarded(deps.log, 'vault scheduler plan', () => this.replan(), { nameOnly: true });
  }

  /** Resumes the stored schedule, with one run now: whatever expired while the server was down is due. */
  async start() {
    this.settings = (await this.deps.store.settings()) ?? this.settings;
    this.schedule();
    if (this.timer && this.leads())
      this.runOnce().catch((err) =>
        this.deps.log.error({ errName: err instanceof Error ? err.name : typeof err }, 'vault scheduler run failed'),
      );
    else this.replanQuietly();
  }

  state(): VaultScheduler {
    return {
      isActive: this.timer !== null,
      autoRefreshEnabled: this.settings.active,
      intervalMinutes: this.settings.intervalMinutes,
      lastRunAt: this.settings.lastRunAt,
      nextRunAt: this.nextRunAt === null ? null : new Date(this.nextRunAt),
    };
  }

  async control(action: 'start' | 'stop' | 'restart', intervalMinutes: number | undefined, userId: string | null) {
    // Counted before and after the save: a reload overlapping it in any way is dropped.
    this.changes++;
    const next = {
      ...this.settings,
      active: action !== 'stop',
      intervalMinutes: intervalMinutes ?? this.settings.intervalMinutes,
    };
    await this.deps.store.saveSettings(next, userId);
    this.changes++;
    this.settings = { ...next, lastRunAt: this.settings.lastRunAt };
    this.schedule();
    this.replanQuietly();
    const state = this.state();
    await this.deps.changed(state);
    return state;
  }

  /**
   * After a scheduler event on the bus (maybe another instance's): re-reads the stored settings,
   * the latest whoever saved them; an older event coming back late cannot undo a newer change,
   * and a change made here meanwhile wins. Reschedules only when they differ.
   */
  async reload() {
    const seen = this.changes;
    const stored = await this.deps.store.settings().catch(() => null);
    if (!stored || seen !== this.changes || this.closed) return;
    if (stored.active === this.settings.active && stored.intervalMinutes === this.settings.intervalMinutes) return;
    this.settings = { ...this.settings, active: stored.active, intervalMinutes: stored.intervalMinutes };
    this.schedule();
    this.replanQuietly();
  }

  /**
   * Arms the wake-up for the session due first (due.ts), read from the database, so a session
   * saved or refreshed on any instance counts. Overlapping plans: the last one started wins.
   */
  async replan() {
    const plan = ++this.plans;
    if (!this.settings.active || this.closed) return this.armDue(null);
    const rows = await this.deps.store.list();
    if (plan !== this.plans) return;
    this.armDue(nextDue(rows, this.deps.providers, this.deps.box, this.deps.now()));
  }

  /** One sweep now (the timer calls this; so may tests and the CLI). Overlapping calls join. */
  runOnce(): Promise<void> {
    this.running ??= this.sweep().finally(() => {
      this.running = null;
      this.replanQuietly();
    });
    return this.running;
  }

  private schedule() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextRunAt = null;
    if (!this.settings.active || this.closed) return this.armDue(null);
    const { intervalMinutes } = this.settings;
    this.nextRunAt = this.deps.now() + intervalMinutes * 60_000;
    this.timer = setTimeout(this.tick, intervalMinutes * this.deps.minuteMs);
    this.timer.unref();
  }

  /** `at` on the scheduler's clock; converted to real time like the interval. */
  private armDue(at: number | null) {
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = null;
    // The regular run comes first: it refreshes what expires before the run after it, then plans again.
    if (at === null || this.closed || this.nextRunAt === null) return;
    at = Math.max(at, this.lastWake + WAKE_GAP_MS);
    if (at >= this.nextRunAt) return;
    const delay = Math.max(0, ((at - this.deps.now()) * this.deps.minuteMs) / 60_000);
    this.dueTimer = setTimeout(this.wake, delay);
    this.dueTimer.unref();
  }

  private leads() {
    return this.deps.leader?.isLeader() ?? true;
  }

  private async sweep() {
    const { db, databaseKind } = this.deps;
    if (databaseKind === 'postgres') {
      // Another instance holding the lock is already sweeping; its run covers ours.
      await db.transaction(async (tx) => {
        // Ask with a boolean comparison the drivers return alike (postgres.js rows, PGlite { rows }).
        const res: unknown = await tx.execute(sql`select pg_try_advisory_xact_lock(${VAULT_LOCK}, 0) as locked`);
        const rows = (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as { locked: boolean }[];
        if (rows[0]?.locked) await this.refreshDue();
      });
    } else {
      await this.refreshDue();
    }
    this.settings = { ...this.settings, lastRunAt: new Date(this.deps.now()) };
    await this.deps.store.markRun(this.settings.lastRunAt!, this.settings);
  }

  private async refreshDue() {
    const { store, box, providers, refresher, now } = this.deps;
    const horizon = now() + this.settings.intervalMinutes * 60_000 + MARGIN_MS;
    for (const row of await store.list()) {
      if (!refreshable(row, providers, box, now())) continue;
      // A failed session is retried once its back-off is over, not only near its expiry: its
      // status (what admins see) must recover by itself when the upstream does.
      const due = row.status === 'error' || row.expiresAt === null || row.expiresAt.getTime() <= horizon;
      if (due) await refresher.refresh(row.id, 'scheduler', row.version);
    }
  }

  async close() {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armDue(null);
    await this.running?.catch(() => {});
  }
}
