import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import type { Db } from '../db/client';
import { inboxEvents } from '../db/schema';
import type { Notification } from '../../shared/system';
import { topic, type EventBus } from './bus';
import { resumable, type StoredEvent } from './resumable';

const userInbox = (userId: string) => topic<StoredEvent<Notification>>(`inbox:${userId}`);

export interface InboxItem {
  userId: string;
  feature: string;
  type: string;
  payload: unknown;
}

/**
 * The durable per-user inbox behind `system.notifications` and every feature's own
 * per-user stream (those are filtered views of it). Written first, published second, so a
 * client that was away replays from the table what it missed live.
 */
export class Inbox {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
  ) {}

  /** Stores and publishes at once; for writes inside a transaction use `record` then `publish`. */
  async deliver(items: InboxItem[]): Promise<Notification[]> {
    const stored = await this.record(this.db, items);
    this.publish(stored);
    return stored;
  }

  async record(tx: Db, items: InboxItem[]): Promise<(Notification & { userId: string })[]> {
    if (items.length === 0) return [];
    const rows = await tx.insert(inboxEvents).values(items).returning();
    return rows.map((r) => ({ id: r.id, userId: r.userId, feature: r.feature, type: r.type, payload: r.payload, createdAt: r.createdAt }));
  }

  /** Call only after the transaction that recorded them has committed. */
  publish(stored: (Notification & { userId?: string })[]) {
    for (const { userId, ...n } of stored) if (userId) this.bus.publish(userInbox(userId), { id: n.id, data: n });
  }

  /**
   * `feature` and `types` narrow the view; `E` names the events a feature stores, so its
   * readers need no cast (the feature is the only writer of its entries).
   */
  stream<E extends { type: string; payload: unknown } = Pick<Notification, 'type' | 'payload'>>(opts: {
    userId: string;
    lastEventId: string | null | undefined;
    signal: AbortSignal | undefined;
    feature?: string;
    types?: readonly E['type'][];
  }) {
    const { userId, feature, types } = opts;
    const wanted = (n: Notification) => (!feature || n.feature === feature) && (!types || types.includes(n.type));
    return resumable<Omit<Notification, 'type' | 'payload'> & E>({
      signal: opts.signal,
      lastEventId: opts.lastEventId,
      subscribe: (push) => this.bus.subscribe(userInbox(userId), (e) => wanted(e.data) && push(e as StoredEvent<Omit<Notification, 'type' | 'payload'> & E>)),
      replay: async (afterId, limit) => {
        const rows = await this.db
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
        return rows.map((r) => ({ id: r.id, data: { id: r.id, feature: r.feature, type: r.type, payload: r.payload, createdAt: r.createdAt } as Omit<Notification, 'type' | 'payload'> & E }));
      },
    });
  }
}
