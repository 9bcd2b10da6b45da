import { afterAll, onTestFinished } from 'vitest';

/**
 * Runs `fn` when what called it is done: at the end of the test that made the thing, or after the
 * file when it was made at file level. Vitest never runs an `afterAll` registered inside a test,
 * so helpers that may be called from either place clean up through this.
 */
export function afterThis(fn: () => unknown) {
  try {
    onTestFinished(async () => void (await fn()));
  } catch {
    // Not inside a test: the thing belongs to the whole file.
    afterAll(async () => void (await fn()));
  }
}
