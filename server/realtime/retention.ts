import { guarded } from '../guarded';
import type { Logger } from '../log';

export interface RetentionJob {
  name: string;
  /** Deletes what is past keeping; returns how many rows went. */
  run: () => Promise<number>;
}

export interface Retention {
  /** One pass over every job now (tests, and the timer). */
  runOnce(): Promise<Record<string, number>>;
  /** Stops the timer and waits for a pass under way, so it never writes into a closed database. */
  stop(): Promise<void>;
}

/**
 * Prunes the stream tables on a schedule (every `intervalMs`; 0 → only when asked). Each pass
 * waits for the previous one, so a slow delete never overlaps the next. With several instances
 * each prunes: the deletes are idempotent, so that costs work, not correctness.
 */
export function startRetention(opts: { intervalMs: number; log: Logger; jobs: RetentionJob[] }): Retention {
  const log = opts.log.child({ component: 'retention' });
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let running: Promise<Record<string, number>> | null = null;

  const pass = async () => {
    const removed: Record<string, number> = {};
    for (const job of opts.jobs) {
      try {
        removed[job.name] = await job.run();
      } catch (err) {
        removed[job.name] = 0;
        log.warn({ err: (err as Error).message, table: job.name }, 'retention pass failed; trying again next interval');
      }
    }
    if (Object.values(removed).some((n) => n > 0)) log.info({ removed }, 'pruned stream tables');
    return removed;
  };
  const runOnce = () => (running ??= pass().finally(() => (running = null)));
  const schedule = () => {
    if (stopped || opts.intervalMs <= 0) return;
    timer = setTimeout(
      guarded(log, 'retention pass', () => runOnce().finally(schedule)),
      opts.intervalMs,
    );
    timer.unref();
  };
  schedule();
  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
