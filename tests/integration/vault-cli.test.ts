import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app';
import { loadConfig } from '../../server/config';
import { openDatabase } from '../../server/db/client';
import { startVinted } from '../helpers/vault';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const vinted = await startVinted();
const key = () => randomBytes(32).toString('base64');

/** `npm run cli -- vault …` as an operator runs it: the server's environment, no server running. */
async function cli(args: string[], env: Record<string, string>) {
  const res = await run(process.execPath, ['--import', 'tsx', 'client/cli/main.ts', 'vault', ...args], {
    cwd: root,
    // Port 9 (discard) never answers: no server owns the embedded database.
    env: { PATH: process.env.PATH, HUBCAST_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'silent', ...vinted.env, ...env },
  }).catch((err: { stdout: string; stderr: string; code: number }) => ({
    stdout: err.stdout,
    stderr: err.stderr,
    code: err.code,
  }));
  return { stdout: res.stdout, code: 'code' in res ? res.code : 0 };
}

describe('vault rekey and diagnose from the CLI', () => {
  it('diagnose names a session sealed under a key no longer configured; rekey with the old key re-seals it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubcast-cli-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const [oldKey, newKey] = [key(), key()];
    const env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      PORT: '0',
      UPSTREAMS: 'demo',
      DATA_DIR: dir,
      VAULT_AUTO_REFRESH_ENABLED: 'false',
      ...vinted.env,
    };
    const app = await createApp(loadConfig({ ...env, VAULT_KEY: oldKey }), {
      database: await openDatabase({ dataDir: dir }),
    });
    await app.vault.saveSession({ provider: 'vinted', label: 'default', secrets: { cookie: vinted.signIn() } });
    await app.close();

    const lost = await cli(['diagnose'], { DATA_DIR: dir, VAULT_KEY: newKey });
    expect(lost.code).toBe(1);
    expect(lost.stdout).toMatch(
      /PROBLEM session 1 vinted\/default: sealed under key \w+, which is not configured\n\s+fix: put the old key in VAULT_PREVIOUS_KEYS/,
    );

    const rekeyed = await cli(['rekey', '--json'], { DATA_DIR: dir, VAULT_KEY: newKey, VAULT_PREVIOUS_KEYS: oldKey });
    expect(JSON.parse(rekeyed.stdout)).toEqual({ total: 1, rekeyed: 1, alreadyCurrent: 0, unreadable: [] });

    const fine = await cli(['diagnose'], { DATA_DIR: dir, VAULT_KEY: newKey });
    expect(fine.stdout).toMatch(/ok\s+session 1 vinted\/default: active, expires/);
    expect(fine.stdout).toMatch(/ok\s+VINTED_URL: http:\/\/127\.0\.0\.1:\d+ answers/);
    // No secret in what the operator sees.
    expect(fine.stdout).not.toMatch(/access_token_web|refresh_token_web/);
  }, 180_000);
});
