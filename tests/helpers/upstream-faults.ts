import { expect } from 'vitest';
import type { Fault } from '../../server/demo/serve';
import type { Caller } from './app';
import { capturedLog } from './log';

/** The adapters' per-attempt timeout in these tests; a "slow" upstream answers well after it. */
export const TIMEOUT_MS = 300;

/**
 * The three ways an upstream fails: refusing (503), answering too late, answering HTTP 200 with
 * something that is not what the API documents (a bot-protection page, or JSON whose shape changed).
 */
export const faultsFor = (timeoutMs: number): Array<[name: string, fault: Fault]> => [
  ['down (503)', { kind: 'down' }],
  ['slow (answers after the timeout)', { kind: 'slow', delayMs: timeoutMs * 8 }],
  [
    'garbage (HTML instead of JSON)',
    { kind: 'garbage', body: '<!doctype html><html><body>Just a moment...</body></html>', contentType: 'text/html' },
  ],
  [
    'garbage (JSON of another shape)',
    { kind: 'garbage', body: JSON.stringify({ schemaVersion: '9.9', data: { moved: true }, items: 'none' }) },
  ],
];
export const FAULTS = faultsFor(TIMEOUT_MS);

/** A message a person reads: no stack, no address, no SQL, no leaked `undefined`. */
export function expectPlain(message: string | null | undefined) {
  expect(message).toBeTruthy();
  expect(message).not.toMatch(
    /\n\s*at |https?:\/\/|wss?:\/\/|127\.0\.0\.1|\b(select|insert|update)\b .*\b(from|into|set)\b|TypeError|ReferenceError|\bundefined\b|\bNaN\b/i,
  );
}

/** The rest of the app still answers while an upstream misbehaves. */
export async function expectServing(admin: Caller) {
  expect((await admin.auth.me())?.role).toBe('admin');
  const stats = await admin.system.stats();
  expect(stats).toBeTruthy();
}

/**
 * A log that fails the test on anything at error level or above: an upstream failure is expected
 * and logged as a warning; an error line means an adapter fell into an unexpected path.
 */
export function strictLog() {
  const captured = capturedLog('warn');
  return {
    log: captured.log,
    /** Checks the lines logged since the last check (so one test's failure stays its own). */
    expectNoErrors() {
      const lines = captured.lines.splice(0);
      const errors = lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);
      expect(errors).toEqual([]);
    },
  };
}
