import { describe, expect, it } from 'vitest';
import type { Notification } from '../../shared/system';
import { createTestApp, signUp } from '../helpers/app';
import { isResumePointEnvelope } from '../helpers/resume-point';

const app = await createTestApp();
const PER_WRITER = 500;

type Stream = ReturnType<typeof app.inbox.stream>;

/** Reads a stream until `stop` says so; ids as the client sees them. */
async function read(stream: Stream, got: { id: number; tag: string }[], stop: () => boolean) {
  while (!stop()) {
    const r = await stream.next();
    if (r.done) return;
    if (isResumePointEnvelope(r.value)) continue;
    const [id, data] = r.value as unknown as [string, Notification];
    got.push({ id: Number(id), tag: (data.payload as { tag: string }).tag });
  }
}

function expectAllOnceInOrder(got: { id: number; tag: string }[]) {
  const ids = got.map((g) => g.id);
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  expect(new Set(ids).size).toBe(ids.length);
  const tags = new Set(got.map((g) => g.tag));
  expect(tags.size).toBe(2 * PER_WRITER);
  expect(got).toHaveLength(2 * PER_WRITER);
}

// On PGlite transactions run one at a time, so this mostly shows the lock works there; the
// race it guards against needs DATABASE_URL (two Postgres connections committing in any order).
describe(`two writers into one inbox (${process.env.DATABASE_URL ? 'Postgres' : 'PGlite: no real concurrency'})`, () => {
  it('a live subscriber and a client resuming midway each get all 1,000 events, in order, once', async () => {
    const { user } = await signUp(app);
    const ac = new AbortController();
    const open = () =>
      app.inbox.stream(
        { userId: user.id, lastEventId: undefined },
        { sessionSignal: ac.signal, requestSignal: undefined },
      );
    const total = 2 * PER_WRITER;

    const live: { id: number; tag: string }[] = [];
    const liveStream = open();
    const liveDone = read(liveStream, live, () => live.length >= total);

    // The second client reads 200 events, goes away and resumes while the writers still write.
    const resumer: { id: number; tag: string }[] = [];
    let resumed!: () => void;
    const resumedGate = new Promise<void>((r) => (resumed = r));
    const resumerDone = (async () => {
      const first = open();
      await read(first, resumer, () => resumer.length >= 200);
      await first.return(undefined);
      const again = app.inbox.stream(
        { userId: user.id, lastEventId: String(resumer.at(-1)!.id) },
        { sessionSignal: ac.signal, requestSignal: undefined },
      );
      const rest = read(again, resumer, () => resumer.length >= total);
      resumed();
      await rest;
    })();

    // Each event as a feature writes one: its own transaction, published after commit.
    const writer = async (name: string) => {
      for (let i = 0; i < PER_WRITER; i++) {
        if (i === 300) await resumedGate;
        await app.streams.recordThenPublish(
          [],
          (tx) =>
            app.inbox.record(tx, [
              { userId: user.id, feature: 'test', type: 'order', payload: { tag: `${name}-${i}` } },
            ]),
          (stored) => app.inbox.publish(stored),
        );
      }
    };
    await Promise.all([writer('a'), writer('b')]);
    // A lost event would leave a reader waiting for ever: give up after a deadline and show what arrived.
    const deadline = new Promise<void>((r) => setTimeout(r, 30_000).unref());
    await Promise.race([Promise.all([liveDone, resumerDone]), deadline]);
    ac.abort();

    expectAllOnceInOrder(live);
    expectAllOnceInOrder(resumer);
    // 1,000 transactions: minutes, not seconds, on a loaded two-core machine.
  }, 180_000);
});
