import { and, asc, count, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { marketAlerts } from '../../db/schema';
import { AppError } from '../../errors';
import type { EventBus } from '../../realtime/bus';
import type { Timeframe } from '../../../shared/market';
import { MAX_ALERTS_PER_USER, type Alert, type AlertCreateInput } from '../../../shared/market-alerts';
import { toAlert } from './alert-rows';
import { alertsChanged, type AlertWatch } from './alert-watch';

const notFound = () => new AppError('NOT_FOUND', 'No such alert among yours: it may have been removed.');

/**
 * A user's alerts: every query filters by the caller, so another user's alert id is NOT_FOUND.
 * Each change is re-read into this instance's AlertWatch before the call answers (so an update
 * right after it is evaluated against it) and announced to the other instances.
 */
export class AlertService {
  constructor(
    private readonly deps: {
      db: Db;
      bus: EventBus;
      watch: AlertWatch;
      /** Throws when the symbol is not listed, or a new series is past the user's budget or the feed's cap. */
      admit: (userId: string, symbol: string, tf: Timeframe) => Promise<void>;
      /** Which series have armed alerts may have changed. */
      onChange: () => void;
    },
  ) {}

  /** Oldest first, `limit` at a time; `nextCursor` is null on the last page. */
  async list(userId: string, cursor: number | null, limit: number) {
    const rows = await this.deps.db
      .select()
      .from(marketAlerts)
      .where(and(eq(marketAlerts.userId, userId), cursor === null ? undefined : gt(marketAlerts.id, cursor)))
      .orderBy(asc(marketAlerts.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(toAlert);
    return { items, nextCursor: rows.length > limit ? items.at(-1)!.id : null };
  }

  async create(userId: string, input: AlertCreateInput): Promise<Alert> {
    await this.deps.admit(userId, input.symbol, input.timeframe);
    const [row] = await this.deps.db.transaction(async (tx) => {
      // Calls of one HTTP batch run concurrently: the per-user lock makes count-then-insert atomic.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`market_alerts:${userId}`}))`);
      const [{ n } = { n: 0 }] = await tx
        .select({ n: count() })
        .from(marketAlerts)
        .where(eq(marketAlerts.userId, userId));
      if (n >= MAX_ALERTS_PER_USER)
        throw new AppError(
          'CONFLICT',
          `You have ${MAX_ALERTS_PER_USER} alerts, the most one account may keep: remove one before adding another.`,
        );
      return tx
        .insert(marketAlerts)
        .values({
          userId,
          symbol: input.symbol,
          timeframe: input.timeframe,
          type: input.condition.type,
          value: input.condition.value,
        })
        .returning();
    });
    await this.changed(row!.id);
    return toAlert(row!);
  }

  async remove(userId: string, id: number): Promise<{ id: number }> {
    const [gone] = await this.deps.db
      .delete(marketAlerts)
      .where(this.mine(userId, id))
      .returning({ id: marketAlerts.id });
    if (!gone) throw notFound();
    await this.changed(id);
    return gone;
  }

  /** A fired alert is armed again (and fires on the next update that meets it); an armed one stays as it is. */
  async rearm(userId: string, id: number): Promise<Alert> {
    const [current] = await this.deps.db.select().from(marketAlerts).where(this.mine(userId, id));
    if (!current) throw notFound();
    if (current.firedAt === null) return toAlert(current);
    // Armed again, it keeps its series watched: a series this instance does not follow yet is charged.
    await this.deps.admit(userId, current.symbol, current.timeframe);
    const [row] = await this.deps.db
      .update(marketAlerts)
      .set({ firedAt: null, firedValue: null })
      .where(this.mine(userId, id))
      .returning();
    if (!row) throw notFound();
    await this.changed(id);
    return toAlert(row);
  }

  private async changed(id: number) {
    await this.deps.watch.refresh([id]);
    this.deps.bus.publish(alertsChanged, { ids: [id] });
    this.deps.onChange();
  }

  private mine(userId: string, id: number) {
    return and(eq(marketAlerts.id, id), eq(marketAlerts.userId, userId));
  }
}
