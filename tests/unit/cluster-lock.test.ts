import { describe, expect, it } from 'vitest';
import { createLocalElector } from '../../server/cluster/elector';
import { createLogger } from '../../server/log';

// The in-process half every cluster lock shares (on Postgres the advisory lock is re-entrant,
// so this is what keeps a second run on the same instance out).
describe('cluster lock, in process', () => {
  const elector = createLocalElector('t', createLogger('silent'), () => ({ upstreams: 0, busLagMs: null }));

  it('refuses a second run while one is running, and frees itself when the work ends or throws', async () => {
    const lock = elector.lock('scan');
    let finish!: (v: string) => void;
    const first = lock.tryRun(() => new Promise<string>((r) => (finish = r)));
    expect(await lock.tryRun(async () => 'second')).toEqual({ held: false });
    // Asked for by name again, it is the same lock.
    expect(await elector.lock('scan').tryRun(async () => 'elsewhere')).toEqual({ held: false });
    expect(await elector.lock('another').tryRun(async () => 'another')).toEqual({ held: true, value: 'another' });
    finish('first');
    expect(await first).toEqual({ held: true, value: 'first' });
    expect(await lock.tryRun(async () => 'next')).toEqual({ held: true, value: 'next' });
    await expect(
      lock.tryRun(async () => {
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');
    expect(await lock.tryRun(async () => 'after a failure')).toEqual({ held: true, value: 'after a failure' });
  });
});
