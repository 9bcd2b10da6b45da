import { describe, expect, it } from 'vitest';
import { SessionWatcher } from '../../server/modules/auth/session-watch';
import { createMemoryBus } from '../../server/realtime/bus';
import { waitFor } from '../helpers/wait';

/** What postgres.js throws while the database refuses connections. */
const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('a session watch at the moment its session would expire', () => {
  it('keeps the subscription open while the database cannot say, and ends it once the session is really gone', async () => {
    let abortedWhenAskedAgain: boolean | undefined;
    const answers: (() => Promise<Date | null>)[] = [
      () => Promise.reject(unreachable()),
      () => {
        abortedWhenAskedAgain = watch.signal.aborted;
        return Promise.resolve(null);
      },
    ];
    let asked = 0;
    const failures: unknown[] = [];
    const watcher = new SessionWatcher(
      createMemoryBus(() => {}),
      () => answers[Math.min(asked++, answers.length - 1)]!(),
      (err) => void failures.push(err),
    );
    const watch = watcher.watch({ id: 's1', userId: 'u1', expiresAt: new Date(Date.now() + 20) });
    try {
      await waitFor(() => watch.signal.aborted, { what: 'the check after the outage to end it' });
      expect(asked).toBe(2);
      // The outage was not taken for a sign-out: the subscription was still open when asked again.
      expect(abortedWhenAskedAgain).toBe(false);
      expect(failures).toEqual([]);
    } finally {
      watch.stop();
      watcher.close();
    }
  });

  it('follows a sliding expiry that moved', async () => {
    let asked = 0;
    const watcher = new SessionWatcher(
      createMemoryBus(() => {}),
      async () => {
        asked++;
        return new Date(Date.now() + 60_000);
      },
    );
    const watch = watcher.watch({ id: 's2', userId: 'u2', expiresAt: new Date(Date.now() + 20) });
    try {
      await waitFor(() => asked >= 1, { what: 'the expiry check' });
      expect(watch.signal.aborted).toBe(false);
      expect(watch.isValid()).toBe(true);
    } finally {
      watch.stop();
      watcher.close();
    }
  });
});
