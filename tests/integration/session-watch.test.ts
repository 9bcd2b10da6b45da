import type { AppError } from '../../server/errors';
import { describe, expect, it } from 'vitest';
import { createTestApp, signUp } from '../helpers/app';

const app = await createTestApp();

/** What a handed-over subscription's claim receives from the watch (realtime/handover.ts). */
function handOff(watch: ReturnType<typeof app.auth.watchSession>) {
  return new Promise<AppError>((resolve) => watch.handOff({ endWith: resolve }));
}

describe('session watch', () => {
  it('ends a handed-off subscription with UNAUTHORIZED when its session signs out', async () => {
    const { token, caller } = await signUp(app);
    const { session } = await app.auth.validate(token);
    const watch = app.auth.watchSession(session!);
    const ended = handOff(watch);
    await caller.auth.signOut();
    await expect(ended).resolves.toMatchObject({ code: 'UNAUTHORIZED' });
    watch.stop();
  });

  it('ends a handed-off subscription when its session expires (the stored session is gone)', async () => {
    const { token } = await signUp(app);
    const { session } = await app.auth.validate(token);
    // A session that is not stored and ends in a moment: the expiry check finds nothing to slide to.
    const watch = app.auth.watchSession({
      ...session!,
      id: 'session-that-is-not-stored',
      expiresAt: new Date(Date.now() + 100),
    });
    await expect(handOff(watch)).resolves.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(watch.isValid()).toBe(false);
    watch.stop();
  });

  it('aborts with the request it watches for, and that is not a session end', async () => {
    const { token } = await signUp(app);
    const { session } = await app.auth.validate(token);
    const request = new AbortController();
    const watch = app.auth.watchSession(session!, request.signal);
    expect(watch.signal.aborted).toBe(false);
    request.abort();
    expect(watch.signal.aborted).toBe(true);
    expect(watch.isValid()).toBe(true);
    watch.stop();
  });
});
