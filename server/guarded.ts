import type { Logger } from './log';

/** Repeats of the same failure at one site are logged at most this often. */
const REPEAT_LOG_MS = 60_000;

export interface ReportOptions {
  /** Log only the error's class name: for code whose errors may quote secrets (the vault). */
  nameOnly?: boolean;
}

/**
 * How one site reports a failure it swallows: one error line, then the same message again at
 * most once a minute with how often it happened meanwhile (a timer failing every few seconds,
 * or a bus handler failing on every event, must not flood the log).
 */
export function failureReporter(log: Logger, what: string, opts: ReportOptions = {}): (err: unknown) => void {
  let last: { message: string; at: number; repeats: number } | null = null;
  return (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    const now = Date.now();
    if (last && last.message === message && now - last.at < REPEAT_LOG_MS) {
      last.repeats++;
      return;
    }
    const detail = opts.nameOnly ? { errName: err instanceof Error ? err.name : typeof err } : { err };
    log.error(
      { ...detail, ...(last?.repeats ? { repeatedBefore: last.repeats } : {}) },
      `${what} failed; still serving`,
    );
    last = { message, at: now, repeats: 0 };
  };
}

/**
 * Wraps a callback that runs outside any request (a timer, a bus handler, a socket event):
 * whatever it throws, synchronously or as a rejected promise, is logged (see failureReporter)
 * and swallowed, so one bad message or bug never ends the process.
 */
export function guarded<A extends unknown[]>(
  log: Logger,
  what: string,
  fn: (...args: A) => unknown,
  opts: ReportOptions = {},
): (...args: A) => void {
  const report = failureReporter(log, what, opts);
  return (...args: A) => {
    try {
      const r = fn(...args);
      if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, report);
    } catch (err) {
      report(err);
    }
  };
}
