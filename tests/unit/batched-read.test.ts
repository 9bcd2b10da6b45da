import { describe, expect, it } from 'vitest';
import { BatchedRead } from '../../server/db/batched-read';

// The property that lets session reads be coalesced without a cache: a key's answer is always
// read after it was asked, so a sign-out committed before the ask is seen.
describe('BatchedRead', () => {
  it('reads the keys asked together in one round, and each key once', async () => {
    const rounds: string[][] = [];
    const reads = new BatchedRead(async (keys: string[]) => {
      rounds.push(keys);
      return new Map(keys.filter((k) => k !== 'gone').map((k) => [k, k.toUpperCase()]));
    });
    const got = await Promise.all(['a', 'b', 'a', 'gone'].map((k) => reads.get(k)));
    expect(got).toEqual(['A', 'B', 'A', undefined]);
    expect(rounds).toEqual([['a', 'b', 'gone']]);
  });

  it('never answers from a round that had started before the key was asked', async () => {
    let value = 'old';
    let release!: () => void;
    const rounds: string[][] = [];
    const reads = new BatchedRead(async (keys: string[]) => {
      rounds.push(keys);
      const seen = value;
      if (rounds.length === 1) await new Promise<void>((r) => (release = r));
      return new Map(keys.map((k) => [k, seen]));
    });
    const first = reads.get('s');
    // The round starts at the end of this turn of the event loop.
    await new Promise((r) => setImmediate(r));
    // The first round has read 'old'; a change commits, then the same key is asked again.
    value = 'new';
    const second = reads.get('s');
    release();
    expect(await first).toBe('old');
    expect(await second).toBe('new');
    expect(rounds).toEqual([['s'], ['s']]);
  });

  it('fails every reader of a failed round, and reads again for the next', async () => {
    let fail = true;
    const reads = new BatchedRead(async (keys: string[]) => {
      if (fail) throw new Error('database away');
      return new Map(keys.map((k) => [k, 1]));
    });
    const failed = await Promise.allSettled([reads.get('a'), reads.get('b')]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await reads.get('a')).toBe(1);
  });

  it('splits a storm into rounds of at most maxKeys', async () => {
    const sizes: number[] = [];
    const reads = new BatchedRead(
      async (keys: number[]) => {
        sizes.push(keys.length);
        return new Map(keys.map((k) => [k, k]));
      },
      { maxKeys: 100 },
    );
    const got = await Promise.all(Array.from({ length: 250 }, (_, i) => reads.get(i)));
    expect(got[249]).toBe(249);
    expect(sizes).toEqual([100, 100, 50]);
  });

  it('in a storm, a round waits gatherMs, so reads asked over the next turns share it', async () => {
    const rounds: number[][] = [];
    const load = async (keys: number[]) => (rounds.push(keys), new Map(keys.map((k) => [k, k])));
    const turn = () => new Promise((r) => setImmediate(r));
    const oneReadPerTurn = async (reads: BatchedRead<number, number>, keys: number[]) => {
      const asked: Promise<unknown>[] = [];
      for (const k of keys) {
        asked.push(reads.get(k));
        await turn();
      }
      await Promise.all(asked);
    };
    const gathering = new BatchedRead(load, { gatherMs: 100 });
    await gathering.get(0);
    await oneReadPerTurn(gathering, [1, 2, 3, 4, 5]);
    // The first read had no round just before it; the five after it came within the storm gap.
    expect(rounds).toEqual([[0], [1, 2, 3, 4, 5]]);

    rounds.length = 0;
    const eager = new BatchedRead(load);
    await eager.get(0);
    await oneReadPerTurn(eager, [1, 2, 3]);
    expect(rounds).toEqual([[0], [1], [2], [3]]);
  });
});
