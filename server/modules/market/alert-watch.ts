import { and, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { marketAlerts } from '../../db/schema';
import { failureReporter, guarded } from '../../guarded';
import type { Logger } from '../../log';
import { topic, type EventBus } from '../../realtime/bus';
import type { Inbox } from '../../realtime/inbox';
import { MARKET_FEATURE, type Candle, type Timeframe } from '../../../shared/market';
import { describeCondition } from '../../../shared/market-alerts';
import { AlertBook, type ArmedAlert } from './alert-book';
import { toAlert, type AlertRow } from './alert-rows';
import type { StoredCandle } from './candle-store';

/** "These alerts changed" (created, removed, re-armed, fired): every instance re-reads them. */
export const alertsChanged = topic<{ ids: number[] }>('market_alerts_changed');

/** Alerts fired in one transaction at most: a crossing of thousands is written in several. */
const FIRE_BATCH = 500;
/** Past this many ids waiting to be re-read, every armed alert is re-read instead. */
const MAX_PENDING_IDS = 10_000;

interface Crossed {
  alert: ArmedAlert;
  /** The price or RSI that crossed it. */
  value: number;
}

const show = (alert: ArmedAlert, value: number) =>
  alert.type.startsWith('rsi') ? value.toFixed(1) : String(Number(value.toPrecision(8)));

/**
 * Evaluates every user's alerts on each series update, on the instance whose hub receives the
 * series' klines (the leader of its timeframe in a cluster: SeriesHub is fed by the feed it
 * holds). The armed alerts live in an AlertBook, loaded from the database at start and
 * re-read per alert whenever one changes on any instance (alertsChanged). A crossed alert
 * leaves the book at once and its firing is written on a queue per series, off the candle
 * path: `fired_at` set in the transaction that records the `alert_fired` inbox event, only
 * where it is still null, so it fires once even with two instances or across a restart.
 */
export class AlertWatch {
  readonly book = new AlertBook();
  private syncing: Promise<void> = Promise.resolve();
  private syncQueued: Promise<void> | null = null;
  private readonly pending = new Set<number>();
  private reloadAll = false;
  private readonly firing = new Map<string, { waiting: Crossed[]; done: Promise<void> }>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly reportFire: (err: unknown) => void;
  private started = false;

  constructor(
    private readonly deps: {
      db: Db;
      bus: EventBus;
      inbox: Inbox;
      log: Logger;
      /** Alerts fired: the series they kept watched may be released. */
      onFired: () => void;
    },
  ) {
    this.reportFire = failureReporter(deps.log, 'market alert firing');
  }

  /** Loads every armed alert and follows changes from every instance; not awaited by boot. */
  start(): Promise<void> {
    this.started = true;
    const { bus, log } = this.deps;
    // Another instance's message runs these: what they throw stays here.
    this.unsubscribe.push(
      bus.subscribe(
        alertsChanged,
        guarded(log, 'market alert sync', (m: { ids: number[] }) => this.refresh(m.ids)),
      ),
      // Changes announced while the bus was down were missed: read them all again.
      bus.onMissed(guarded(log, 'market alert reload', () => this.refresh(null))),
    );
    return this.refresh(null);
  }

  /**
   * Re-reads the given alerts (null: every armed one) and makes the book match the database.
   * Reads run one after another, each starting after the previous one ended, and every change
   * is announced after its commit, so the last read of an alert sees its latest state.
   */
  refresh(ids: number[] | null): Promise<void> {
    if (!this.started) return Promise.resolve();
    if (ids === null || this.pending.size + ids.length > MAX_PENDING_IDS) this.reloadAll = true;
    else for (const id of ids) this.pending.add(id);
    if (this.syncQueued) return this.syncQueued;
    const next = this.syncing.then(() => {
      this.syncQueued = null;
      return this.apply();
    });
    this.syncQueued = next;
    this.syncing = next.catch((err) => {
      if (this.started) this.deps.log.error({ err }, 'market: reading the armed alerts failed');
    });
    return this.syncing;
  }

  /** A forming update: its price crosses alerts. */
  onForming(symbol: string, tf: Timeframe, candle: Candle) {
    this.crossed(symbol, tf, this.book.onPrice(symbol, tf, candle.close), candle.close);
  }

  /**
   * A closed candle, stored by this instance: its RSI 14. Its close is not checked as a price:
   * the exchange's last forming update already carried it.
   */
  onClosed(symbol: string, tf: Timeframe, closed: StoredCandle) {
    const rsi = closed.indicators.rsi14;
    if (rsi !== null) this.crossed(symbol, tf, this.book.onRsi(symbol, tf, rsi), rsi);
  }

  /** Waits until the firings queued so far on a series are written (tests, shutdown). */
  async settled(symbol: string, tf: Timeframe): Promise<void> {
    await this.firing.get(`${symbol}|${tf}`)?.done;
  }

  close() {
    this.started = false;
    for (const u of this.unsubscribe.splice(0)) u();
    this.book.clear();
  }

  private async apply() {
    const { db } = this.deps;
    if (this.reloadAll) {
      this.reloadAll = false;
      this.pending.clear();
      const rows = await db.select().from(marketAlerts).where(isNull(marketAlerts.firedAt));
      if (!this.started) return;
      this.book.load(rows.map(armed));
      return;
    }
    const ids = [...this.pending];
    this.pending.clear();
    if (ids.length === 0) return;
    const rows = await db.select().from(marketAlerts).where(inArray(marketAlerts.id, ids));
    if (!this.started) return;
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const id of ids) {
      const r = byId.get(id);
      if (r && r.firedAt === null) this.book.set(armed(r));
      else this.book.delete(id);
    }
  }

  private crossed(symbol: string, tf: Timeframe, alerts: ArmedAlert[], value: number) {
    if (alerts.length === 0) return;
    const key = `${symbol}|${tf}`;
    const queued = this.firing.get(key);
    const items = alerts.map((alert) => ({ alert, value }));
    // Bounded by the series' alerts: each is in the book, or waiting here, never both.
    if (queued) {
      // A loop, not push(...items): a crossing may take out more alerts than a call has arguments.
      for (const item of items) queued.waiting.push(item);
      return;
    }
    const entry = { waiting: items, done: Promise.resolve() };
    entry.done = this.drain(entry).finally(() => this.firing.delete(key));
    this.firing.set(key, entry);
  }

  private async drain(entry: { waiting: Crossed[] }) {
    let fired = false;
    while (entry.waiting.length > 0 && this.started) {
      const batch = entry.waiting.splice(0, FIRE_BATCH);
      try {
        fired = (await this.fire(batch)).length > 0 || fired;
        // Every instance re-reads them: the others drop them from their books.
        this.deps.bus.publish(alertsChanged, { ids: batch.map((c) => c.alert.id) });
      } catch (err) {
        // Closing: the database goes with the app; the alerts stay armed in it for the next start.
        if (!this.started) return;
        this.reportFire(err);
        // Still armed as far as we know: back into the book, so the next update crossing them
        // tries again (the database's guard keeps that from firing one twice).
        for (const { alert } of batch) if (!this.book.has(alert.id)) this.book.set(alert);
        for (const { alert } of entry.waiting.splice(0)) if (!this.book.has(alert.id)) this.book.set(alert);
      }
    }
    if (fired) this.deps.onFired();
  }

  /** One transaction: marks the alerts fired where they still are armed, and records one inbox event each. */
  private async fire(batch: Crossed[]): Promise<number[]> {
    const at = new Date();
    const byValue = new Map<number, Crossed[]>();
    for (const c of batch) {
      const group = byValue.get(c.value);
      if (group) group.push(c);
      else byValue.set(c.value, [c]);
    }
    const { result } = await this.deps.inbox.withEvents(async (tx, emit) => {
      const fired: number[] = [];
      for (const [value, group] of byValue) {
        const rows: AlertRow[] = await tx
          .update(marketAlerts)
          .set({ firedAt: at, firedValue: value })
          .where(
            and(
              inArray(
                marketAlerts.id,
                group.map((c) => c.alert.id),
              ),
              isNull(marketAlerts.firedAt),
            ),
          )
          .returning();
        for (const r of rows) {
          const alert = toAlert(r);
          fired.push(r.id);
          const message = `Alert: ${r.symbol} ${r.timeframe} ${describeCondition(alert.condition)} (now ${show(armed(r), value)})`;
          emit({ userId: r.userId, feature: MARKET_FEATURE, type: 'alert_fired', payload: { alert, message } });
        }
      }
      return fired;
    });
    return result;
  }
}

const armed = (r: AlertRow): ArmedAlert => ({
  id: r.id,
  userId: r.userId,
  symbol: r.symbol,
  timeframe: r.timeframe,
  type: r.type,
  value: r.value,
});
