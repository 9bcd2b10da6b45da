/**
 * A bounded async queue: the producer never waits, the consumer awaits. Overflow is an
 * error rather than unbounded memory, so one slow reader cannot grow the process.
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;

  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.failure) return;
    if (this.items.length >= this.capacity) {
      this.fail(new QueueOverflowError(this.capacity));
      return;
    }
    this.items.push(item);
    this.wake();
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  /** Resolves with the next item, or null when the signal aborts. Throws if the queue failed. */
  async next(signal?: AbortSignal): Promise<T | null> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.items.length > 0) return this.items.shift() as T;
      if (signal?.aborted) return null;
      await new Promise<void>((resolve) => {
        // One listener per wait, removed when the wait ends: long streams must not pile them up.
        const done = () => {
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.waiter = done;
        signal?.addEventListener('abort', done, { once: true });
      });
      this.waiter = null;
    }
  }

  /** Takes every waiting item at once (throws if the queue failed). */
  drain(): T[] {
    if (this.failure) throw this.failure;
    const items = this.items;
    this.items = [];
    return items;
  }

  private wake() {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

export class QueueOverflowError extends Error {
  constructor(readonly capacity: number) {
    super(`more than ${capacity} events waiting: the client is reading too slowly`);
  }
}
