import { failureReporter, guarded } from '../guarded';
import type { Logger } from '../log';

/** What the sweep asks of each connection: ping it when idle, cut it when its pong is late. */
export interface KeepAliveTarget {
  keepAlive(now: number, pingMs: number, pongWaitMs: number): void;
}

/**
 * One sweep for every connection instead of two timers each (connections reset their own
 * clock on every message). Returns the function that stops it.
 */
export function startKeepAliveSweep(
  connections: Iterable<KeepAliveTarget>,
  opts: { pingMs: number; pongWaitMs: number },
  log: Logger,
): () => void {
  const { pingMs, pongWaitMs } = opts;
  const failed = failureReporter(log, 'WebSocket keep-alive');
  const sweep = setInterval(
    guarded(log, 'WebSocket keep-alive sweep', () => {
      const now = Date.now();
      // Per connection, so one that fails is not what stops the others' pings.
      for (const c of connections) {
        try {
          c.keepAlive(now, pingMs, pongWaitMs);
        } catch (err) {
          failed(err);
        }
      }
    }),
    Math.max(50, Math.min(pingMs, pongWaitMs) / 4),
  );
  sweep.unref();
  return () => clearInterval(sweep);
}
