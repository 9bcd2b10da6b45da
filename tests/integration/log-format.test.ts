import { spawnSync } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../server/upstream/error';
import { capturedLog } from '../helpers/log';

const root = new URL('../..', import.meta.url).pathname;

const script = ['--import', 'tsx', 'tests/fixtures/log/upstream-failure.ts'];

/** The fixture script in its own process, stdout piped (not a terminal). */
function run(env: Record<string, string>) {
  const out = spawnSync(process.execPath, script, {
    cwd: root,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
  });
  expect(out.status, out.stderr).toBe(0);
  return out.stdout.trim().split('\n');
}

/** The same on a real terminal: util-linux `script` gives it a pseudo-terminal. Colours stripped. */
function runOnTerminal(env: Record<string, string>) {
  const out = spawnSync('script', ['-qec', [process.execPath, ...script].join(' '), '/dev/null'], {
    cwd: root,
    env: { PATH: process.env.PATH, TERM: 'xterm', ...env },
    encoding: 'utf8',
  });
  expect(out.status, out.stderr).toBe(0);
  return stripVTControlCharacters(out.stdout).replace(/\r/g, '').trim().split('\n');
}

describe('log lines', () => {
  it('a failed upstream call is one entry with its reason and no stack; stacks come back at debug', () => {
    const info = capturedLog('info');
    const failure = new UpstreamError('DexScreener', 503, 'DexScreener error 503');
    info.log.warn({ err: failure }, 'pair look-up failed');
    info.log.warn({ err: new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: failure }) }, 'procedure failed');
    const [direct, wrapped] = info.lines.map((l) => JSON.parse(l));
    expect(direct.err).toEqual({ type: 'UpstreamError', message: 'DexScreener error 503' });
    expect(wrapped.err).not.toHaveProperty('stack');
    expect(wrapped.err.cause).toEqual({ type: 'UpstreamError', message: 'DexScreener error 503' });

    // Our own bugs keep their stack at any level.
    info.log.error({ err: new TypeError('x is undefined') }, 'bug');
    expect(JSON.parse(info.lines[2]!).err.stack).toMatch(/^TypeError: x is undefined\n\s+at /);

    const debug = capturedLog('debug');
    debug.log.warn({ err: failure }, 'pair look-up failed');
    expect(JSON.parse(debug.lines[0]!).err.stack).toMatch(/^UpstreamError: DexScreener error 503\n\s+at /);
  });

  it('piped or in production: one JSON object a line, secrets redacted', () => {
    const envs: Record<string, string>[] = [{}, { NODE_ENV: 'production', LOG_FORMAT: 'auto' }];
    for (const env of envs) {
      const lines = run(env);
      expect(lines).toHaveLength(2);
      const [failure, done] = lines.map((l) => JSON.parse(l));
      expect(failure).toMatchObject({ level: 40, msg: 'security look-up failed', password: '[Redacted]' });
      expect(failure.err.cause).toEqual({ type: 'UpstreamError', message: 'GoPlus error 503' });
      expect(done).toMatchObject({ level: 30, scanId: 7 });
    }
  });

  it('LOG_FORMAT=pretty (what a terminal gets): one readable line per entry, reason shown, no stack, no secret', () => {
    const lines = run({ LOG_FORMAT: 'pretty' });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: security look-up failed .*GoPlus error 503/);
    expect(lines[1]).toMatch(/INFO: discovery scan completed .*"scanId":7/);
    const all = lines.join('\n');
    expect(all).not.toContain('hunter2-secret');
    expect(all).not.toMatch(/\n\s+at /);
    // At debug the stack follows.
    expect(run({ LOG_FORMAT: 'pretty', LOG_LEVEL: 'debug' }).some((l) => /^\s+at /.test(l))).toBe(true);
  });

  it('on a terminal: readable lines by default, JSON in production', () => {
    const tty = runOnTerminal({});
    expect(tty[0]).toMatch(
      /WARN: security look-up failed — TRPCError: look-up failed ← UpstreamError: GoPlus error 503 \{"password":"\[Redacted\]"\}$/,
    );
    expect(tty).toHaveLength(2);
    const production = runOnTerminal({ NODE_ENV: 'production' });
    expect(production.map((l) => JSON.parse(l).msg)).toEqual(['security look-up failed', 'discovery scan completed']);
  });
});
