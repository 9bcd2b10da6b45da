import { getEventListeners } from 'node:events';
import { isTrackedEnvelope, TRPCError } from '@trpc/server';
import { and, asc, eq, gt } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { inboxEvents } from '../../server/db/schema';
import { topic } from '../../server/realtime/bus';
import { resumable, type StoredEvent } from '../../server/realtime/resumable';
import { createTestApp, signUp } from '../helpers/app';

const app = await createTestApp();
const { user } = await signUp(app);
const live = topic<StoredEvent<string>>(`test:${user.id}`);

/** Writes an event the way features do: row first, then publish. */
async function write(message: string): Promise<number> {
  const [row] = await app.db.insert(inboxEvents).values({ userId: user.id, feature: 'test', type: 't', payload: message }).returning();
  app.bus.publish(live, { id: row!.id, data: message });
  return row!.id;
}

async function replayFromTable(afterId: number, limit: number): Promise<StoredEvent<string>[]> {
  const rows = await app.db
    .select()
    .from(inboxEvents)
    .where(and(eq(inboxEvents.userId, user.id), gt(inboxEvents.id, afterId)))
    .orderBy(asc(inboxEvents.id))
    .limit(limit);
  return rows.map((r) => ({ id: r.id, data: r.payload as string }));
}

async function take(stream: AsyncGenerator<unknown>, n: number): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const { value } = await stream.next();
    if (!isTrackedEnvelope(value)) throw new Error('expected a tracked event');
    out.push([value[0], value[1] as string]);
  }
  return out;
}

describe('resumable()', () => {
  it('has no gap and no duplicate when events are written during the replay', async () => {
    const start = await write('before-0');
    await write('before-1');
    let duringReplay: Promise<number> | null = null;
    let afterQuery: Promise<number> | null = null;
    const ac = new AbortController();
    const stream = resumable<string>({
      signal: ac.signal,
      lastEventId: String(start),
      subscribe: (push) => app.bus.subscribe(live, push),
      replay: async (afterId, limit) => {
        // One event lands before the query runs (seen by replay and live), one after (live only).
        duringReplay ??= write('during-replay');
        await duringReplay;
        const rows = await replayFromTable(afterId, limit);
        afterQuery ??= write('after-query');
        return rows;
      },
      replayPageSize: 2,
    });
    const got = await take(stream, 3);
    expect(got.map(([, m]) => m)).toEqual(['before-1', 'during-replay', 'after-query']);
    await afterQuery;
    ac.abort();
    expect((await stream.next()).done).toBe(true);
  });

  it('pages through a long replay in id order', async () => {
    const from = await write('page-start');
    for (let i = 0; i < 7; i++) await write(`page-${i}`);
    const stream = resumable<string>({
      signal: undefined,
      lastEventId: String(from),
      subscribe: (push) => app.bus.subscribe(live, push),
      replay: replayFromTable,
      replayPageSize: 3,
    });
    const got = await take(stream, 7);
    expect(got.map(([, m]) => m)).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
    await stream.return(undefined);
  });

  it('keeps one abort listener however many events pass', async () => {
    const ac = new AbortController();
    const stream = resumable<string>({
      signal: ac.signal,
      lastEventId: undefined,
      subscribe: (push) => app.bus.subscribe(live, push),
      replay: replayFromTable,
    });
    for (let i = 0; i < 30; i++) {
      const next = stream.next();
      await write(`l-${i}`);
      await next;
    }
    expect(getEventListeners(ac.signal, 'abort').length).toBeLessThanOrEqual(1);
    ac.abort();
    expect((await stream.next()).done).toBe(true);
  });

  it('ends a reader that falls too far behind with TOO_MANY_REQUESTS instead of buffering without bound', async () => {
    const stream = resumable<string>({
      signal: undefined,
      lastEventId: undefined,
      subscribe: (push) => app.bus.subscribe(live, push),
      replay: replayFromTable,
      maxBuffered: 3,
    });
    const first = stream.next();
    await write('x-0');
    await first;
    for (let i = 1; i <= 5; i++) await write(`x-${i}`);
    const err = await stream.next().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe('TOO_MANY_REQUESTS');
  });
});
