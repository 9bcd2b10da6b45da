import { getEventListeners } from 'node:events';
import { isTrackedEnvelope } from '@trpc/server';
import { and, asc, eq, gt, max } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { inboxEvents } from '../../server/db/schema';
import { AppError } from '../../server/errors';
import { topic } from '../../server/realtime/bus';
import { resumable, type BusEvent, type StoredEvent } from '../../server/realtime/resumable';
import { isResumePoint } from '../../shared/system';
import { createTestApp, signUp } from '../helpers/app';

const app = await createTestApp();
const { user } = await signUp(app);
const live = topic<StoredEvent<string>>(`test:${user.id}`);

/** Writes an event the way features do: row first, then publish. */
async function write(message: string): Promise<number> {
  const [row] = await app.db
    .insert(inboxEvents)
    .values({ userId: user.id, feature: 'test', type: 't', payload: message })
    .returning();
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

/** The stream's head as features read it: the newest stored id (0 when none). */
async function headOfTable(): Promise<number> {
  const [row] = await app.db
    .select({ id: max(inboxEvents.id) })
    .from(inboxEvents)
    .where(eq(inboxEvents.userId, user.id));
  return row?.id ?? 0;
}

/** A stream started without lastEventId first yields its resume point: checks it, returns its id. */
async function resumePoint(stream: AsyncGenerator<unknown>): Promise<string> {
  const { value } = await stream.next();
  if (!isTrackedEnvelope(value) || !isResumePoint(value[1]))
    throw new Error(`expected the resume point, got ${JSON.stringify(value)}`);
  return value[0];
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
      head: headOfTable,
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
      head: headOfTable,
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
      head: headOfTable,
    });
    await resumePoint(stream);
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
      head: headOfTable,
      maxBuffered: 3,
    });
    await resumePoint(stream);
    const first = stream.next();
    await write('x-0');
    await first;
    for (let i = 1; i <= 5; i++) await write(`x-${i}`);
    const err = await stream.next().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('TOO_MANY_REQUESTS');
  });
});

describe('resumable() resume point', () => {
  it('gives a stream started without lastEventId its head as the first, tracked message; a resume from it misses nothing', async () => {
    await write('before-the-tab');
    const head = await headOfTable();
    const open = (lastEventId: string | undefined) =>
      resumable<string>({
        signal: undefined,
        lastEventId,
        subscribe: (push) => app.bus.subscribe(live, push),
        replay: replayFromTable,
        head: headOfTable,
      });
    const tab = open(undefined);
    expect(await resumePoint(tab)).toBe(String(head));
    await tab.return(undefined);
    // Written while the tab reconnects; it comes back with the resume point as its lastEventId.
    await write('during-the-gap');
    const again = open(String(head));
    expect((await take(again, 1)).map(([, m]) => m)).toEqual(['during-the-gap']);
    await again.return(undefined);
  });

  it('resumes from 0 (the resume point of a stream with nothing stored) from its start, without mapping it through resumeFrom', async () => {
    const asked: number[] = [];
    const stream = resumable<string>({
      signal: undefined,
      lastEventId: '0',
      subscribe: (push) => app.bus.subscribe(live, push),
      replay: async (after) => (asked.push(after), [{ id: 7, data: 'first' }]),
      head: async () => 0,
      resumeFrom: () => Promise.reject(new Error('0 is no event id')),
      position: () => 1,
    });
    expect((await take(stream, 1)).map(([, m]) => m)).toEqual(['first']);
    expect(asked).toEqual([0]);
    await stream.return(undefined);
  });
});

describe('resumable() for chat and market', () => {
  const mixed = topic<BusEvent<string, { typing: string }>>(`test-mixed:${user.id}`);
  /** Stored events go to the table; live-only ones straight to the bus. */
  async function writeMixed(message: string) {
    const [row] = await app.db
      .insert(inboxEvents)
      .values({ userId: user.id, feature: 'test', type: 't', payload: message })
      .returning();
    app.bus.publish(mixed, { id: row!.id, data: message });
    return row!.id;
  }
  const openMixed = (
    lastEventId: string | undefined,
    extra: Partial<Parameters<typeof resumable<string, { typing: string }>>[0]> = {},
  ) =>
    resumable<string, { typing: string }>({
      signal: undefined,
      lastEventId,
      subscribe: (push) => app.bus.subscribe(mixed, push),
      replay: replayFromTable,
      head: headOfTable,
      ...extra,
    });

  it('delivers live-only events untracked, as the very object published, to every subscriber, and never replays them', async () => {
    const a = openMixed(undefined);
    const b = openMixed(undefined);
    await Promise.all([resumePoint(a), resumePoint(b)]);
    const [na, nb] = [a.next(), b.next()];
    const typing = { data: { typing: 'alice' } };
    app.bus.publish(mixed, typing);
    const [ra, rb] = await Promise.all([na, nb]);
    expect(isTrackedEnvelope(ra.value)).toBe(false);
    expect(ra.value).toBe(typing);
    expect(rb.value).toBe(typing);
    // Stored events: the same data object for every subscriber inside its per-subscriber envelope.
    const [sa, sb] = [a.next(), b.next()];
    const id = await writeMixed('stored-1');
    const [ta, tb] = await Promise.all([sa, sb]);
    if (!isTrackedEnvelope(ta.value) || !isTrackedEnvelope(tb.value)) throw new Error('expected tracked events');
    expect(ta.value[0]).toBe(String(id));
    expect(ta.value[1]).toBe(tb.value[1]);
    await a.return(undefined);
    await b.return(undefined);
    // A client resuming from before the typing event gets only the stored event.
    const c = openMixed(String(id - 1));
    const first = await c.next();
    expect(isTrackedEnvelope(first.value) && first.value[1]).toBe('stored-1');
    await c.return(undefined);
  });

  it('skips events that fail the per-event authorisation, replayed or live', async () => {
    const from = await writeMixed('auth-start');
    await writeMixed('ok-1');
    await writeMixed('secret-1');
    let removed = false;
    const ac = new AbortController();
    const stream = openMixed(String(from), {
      signal: ac.signal,
      authorize: (e) => !removed && !(typeof e.data === 'string' && e.data.startsWith('secret')),
    });
    const got = await take(stream, 1);
    expect(got.map(([, m]) => m)).toEqual(['ok-1']);
    const next = stream.next();
    await writeMixed('secret-2');
    await writeMixed('ok-2');
    const second = await next;
    expect(isTrackedEnvelope(second.value) && second.value[1]).toBe('ok-2');
    // Removed (say, from a conversation): nothing more reaches this subscriber, typing included.
    removed = true;
    app.bus.publish(mixed, { data: { typing: 'bob' } });
    await writeMixed('ok-3');
    const after = stream.next();
    await writeMixed('ok-4');
    ac.abort();
    expect((await after).done).toBe(true);
  });

  it('ends quietly when its subscriber leaves during a per-event check, even one waiting out a database outage', async () => {
    const from = await writeMixed('leave-start');
    const unavailable = Object.assign(new Error('connection ended'), { code: 'CONNECTION_ENDED' });
    for (const check of ['slow', 'outage'] as const) {
      const ac = new AbortController();
      let checking: () => void = () => {};
      const checked = new Promise<void>((resolve) => (checking = resolve));
      const stream = openMixed(String(from), {
        signal: ac.signal,
        authorize: () => {
          checking();
          if (check === 'outage') throw unavailable;
          return new Promise<boolean>((resolve) => ac.signal.addEventListener('abort', () => resolve(false)));
        },
      });
      const first = stream.next();
      await writeMixed(`leave-${check}`);
      await checked;
      ac.abort();
      expect((await first).done).toBe(true);
    }
  });

  it('orders by a position of its own, resumes from an id lookup and drops stale live-only events', async () => {
    // Position = the number inside the message, deliberately not the id order.
    const pos = (m: string) => Number(m.split(':')[1]);
    const ids = new Map<number, number>();
    for (const p of [10, 30, 20]) ids.set(p, await writeMixed(`pos:${p}`));
    const stream = openMixed(String(ids.get(10)), {
      position: (e) => pos(e.data),
      livePosition: (d) => Number(d.typing),
      resumeFrom: async (id) => [...ids].find(([, i]) => i === id)![0],
      replay: async (after, limit) =>
        (await replayFromTable(0, 1000))
          .filter((e) => e.data.startsWith('pos:') && pos(e.data) > after)
          .sort((x, y) => pos(x.data) - pos(y.data))
          .slice(0, limit),
      snapshot: () => ({ data: { typing: '25' } }),
    });
    const replayed = await take(stream, 2);
    expect(replayed.map(([, m]) => m)).toEqual(['pos:20', 'pos:30']);
    // The snapshot (position 25) is already behind the mark (30): dropped, like a live one at 30.
    const next = stream.next();
    app.bus.publish(mixed, { data: { typing: '30' } });
    app.bus.publish(mixed, { data: { typing: '31' } });
    expect((await next).value).toEqual({ data: { typing: '31' } });
    await stream.return(undefined);
  });

  it('tells a client resuming from before the retained events to reload (PRECONDITION_FAILED), never a silent gap', async () => {
    const old = await writeMixed('old');
    const kept = await writeMixed('kept-a');
    await writeMixed('kept-b');
    const retainedFrom = async () => kept;
    const gone = openMixed(String(old - 1), { retainedFrom });
    await expect(gone.next()).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining('reload'),
    });
    // Resuming from the last event before the kept ones loses nothing: allowed.
    const fine = openMixed(String(old), { retainedFrom });
    expect((await take(fine, 2)).map(([, m]) => m)).toEqual(['kept-a', 'kept-b']);
    await fine.return(undefined);
  });
});
