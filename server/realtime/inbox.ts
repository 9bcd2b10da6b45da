import { and, asc, desc, eq, gt, inArray, lt, lte, max, min } from 'drizzle-orm';
import type { Db } from '../db/client';
import { inboxEvents } from '../db/schema';
import type { Notification } from '../../shared/system';
import { topic, type EventBus } from './bus';
import { lockStreams, type StreamLog, type Tx } from './record';
import type { BusEvent, StoredEvent } from './resumable';
import { userStream, type StreamScope } from './streams';

/** One user's inbox stream: the bus topic and the stream lock share this key. */
export const inboxStreamKey = (userId: string) => `inbox:${userId}`;
const userInbox = (userId: string) => topic<BusEvent<Notification, LiveItem>>(inboxStreamKey(userId));

export interface InboxItem {
  userId: string;
  feature: string;
  type: string;
  payload: unknown;
}

/** An inbox event that is never stored (typing): only a feature's own view carries it. */
export type LiveItem = Omit<InboxItem, 'userId'>;

/**
 * The durable per-user inbox behind `system.notifications` and every feature's own
 * per-user stream (those are filtered views of it). Written first, published second, so a
 * client that was away replays from the table what it missed live.
 */
export class Inbox {
  constructor(private readonly deps: { db: Db; bus: EventBus; streams: StreamLog }) {}

  /**
   * The one way to write per-user events: `work` runs in one transaction and says what happened
   * through `emit`; the items are recorded in the inbox last, inside that transaction (so the
   * addressees' stream locks are held only for the commit), and published after it commits, so a
   * rolled-back change is never announced. Returns what `work` returned and the stored events.
   */
  async withEvents<T>(
    work: (tx: Tx, emit: (item: InboxItem) => void) => Promise<T>,
  ): Promise<{ result: T; events: (Notification & { userId: string })[] }> {
    const { result, stored } = await this.deps.streams.recordThenPublish(
      [],
      async (tx) => {
        const items: InboxItem[] = [];
        const result = await work(tx, (item) => void items.push(item));
        return { result, stored: await this.record(tx, items) };
      },
      ({ stored }) => this.publish(stored),
    );
    return { result, events: stored };
  }

  /**
   * Inside the caller's transaction, under the addressees' stream locks (held to its commit).
   * Record all of one transaction's inbox items in one call, so its locks are taken in order.
   */
  async record(tx: Tx, items: InboxItem[]): Promise<(Notification & { userId: string })[]> {
    if (items.length === 0) return [];
    await lockStreams(
      tx,
      items.map((i) => inboxStreamKey(i.userId)),
    );
    const rows = await tx.insert(inboxEvents).values(items).returning();
    return rows.map((r) => ({
      id: r.id,
      userId: r.userId,
      feature: r.feature,
      type: r.type,
      payload: r.payload,
      createdAt: r.createdAt,
    }));
  }

  /** Call only after the transaction that recorded them has committed. */
  publish(stored: (Notification & { userId?: string })[]) {
    for (const { userId, ...n } of stored) if (userId) this.deps.bus.publish(userInbox(userId), { id: n.id, data: n });
  }

  /** The lowest id still stored, or null when the inbox is empty: resuming below it may have lost events. */
  async retainedFrom(): Promise<number | null> {
    const [row] = await this.deps.db.select({ id: min(inboxEvents.id) }).from(inboxEvents);
    return row?.id ?? null;
  }

  /**
   * A user's resume point: the id of their newest event; with none, just below the lowest id
   * kept (every later event is above it, and a resume from it is not mistaken for one from
   * before retention). The user's ids commit in order (their stream lock), so none comes later below it.
   */
  async head(userId: string): Promise<number> {
    const [own] = await this.deps.db
      .select({ id: max(inboxEvents.id) })
      .from(inboxEvents)
      .where(eq(inboxEvents.userId, userId));
    if (own?.id != null) return own.id;
    const oldest = await this.retainedFrom();
    return oldest === null ? 0 : oldest - 1;
  }

  /**
   * Deletes events older than `before`, as one id range (everything at or below the newest old
   * id), so "below the lowest id kept" is exactly what a resume check needs. The newest event is
   * always kept, or an emptied table could not tell a pruned resume id from a fresh one.
   */
  async prune(before: Date, batch = 10_000): Promise<number> {
    const [old] = await this.deps.db
      .select({ id: inboxEvents.id })
      .from(inboxEvents)
      .where(lt(inboxEvents.createdAt, before))
      .orderBy(desc(inboxEvents.id))
      .limit(1);
    const [top] = await this.deps.db.select({ id: max(inboxEvents.id) }).from(inboxEvents);
    if (!old || top?.id == null) return 0;
    const upTo = Math.min(old.id, top.id - 1);
    let removed = 0;
    for (;;) {
      const [low] = await this.deps.db.select({ id: min(inboxEvents.id) }).from(inboxEvents);
      if (low?.id == null || low.id > upTo) return removed;
      // In batches: one huge delete would hold its locks and bloat the WAL in one go.
      const gone = await this.deps.db
        .delete(inboxEvents)
        .where(lte(inboxEvents.id, Math.min(upTo, low.id + batch)))
        .returning({ id: inboxEvents.id });
      removed += gone.length;
    }
  }

  /** Live only: reaches the user's connected views of `item.feature` now, or never. */
  publishLive(userId: string, item: LiveItem) {
    this.deps.bus.publish(userInbox(userId), { data: item });
  }

  /**
   * Every stored event addressed to the user, or one feature's (`system.notifications`,
   * `market.activity`, `collections.events`). `feature` and `types` narrow the view; `E` names
   * the events a feature stores, so its readers need no cast (the feature is the only writer of its entries).
   */
  stream<E extends { type: string; payload: unknown } = Pick<Notification, 'type' | 'payload'>>(
    opts: { userId: string; lastEventId: string | null | undefined; feature?: string; types?: readonly E['type'][] },
    scope: StreamScope,
  ) {
    type Stored = Omit<Notification, 'type' | 'payload'> & E;
    const { userId, feature, types } = opts;
    const wanted = (n: Notification) => (!feature || n.feature === feature) && (!types || types.includes(n.type));
    return userStream<Stored>(scope, {
      lastEventId: opts.lastEventId,
      subscribe: (push) =>
        this.deps.bus.subscribe(
          userInbox(userId),
          (e) => e.id !== undefined && wanted(e.data) && push(e as StoredEvent<Stored>),
        ),
      head: () => this.head(userId),
      retainedFrom: () => this.retainedFrom(),
      replay: this.replay<Stored>(userId, feature, types),
    });
  }

  /** One feature's view with its live-only events mixed in, each checked by `authorize` when delivered. */
  featureStream(
    opts: {
      userId: string;
      feature: string;
      lastEventId: string | null | undefined;
      authorize?: (event: BusEvent<Notification, LiveItem>) => boolean | Promise<boolean>;
    },
    scope: StreamScope,
  ) {
    const { userId, feature } = opts;
    return userStream<Notification, LiveItem>(scope, {
      lastEventId: opts.lastEventId,
      subscribe: (push) => this.deps.bus.subscribe(userInbox(userId), (e) => e.data.feature === feature && push(e)),
      head: () => this.head(userId),
      retainedFrom: () => this.retainedFrom(),
      replay: this.replay(userId, feature),
      authorize: opts.authorize,
    });
  }

  private replay<D = Notification>(userId: string, feature: string | undefined, types?: readonly string[]) {
    return async (afterId: number, limit: number): Promise<StoredEvent<D>[]> => {
      const rows = await this.deps.db
        .select()
        .from(inboxEvents)
        .where(
          and(
            eq(inboxEvents.userId, userId),
            gt(inboxEvents.id, afterId),
            feature ? eq(inboxEvents.feature, feature) : undefined,
            types ? inArray(inboxEvents.type, [...types]) : undefined,
          ),
        )
        .orderBy(asc(inboxEvents.id))
        .limit(limit);
      return rows.map((r) => ({
        id: r.id,
        data: { id: r.id, feature: r.feature, type: r.type, payload: r.payload, createdAt: r.createdAt } as D,
      }));
    };
  }
}
