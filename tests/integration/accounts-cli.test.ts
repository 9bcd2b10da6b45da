import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app';
import { loadConfig } from '../../server/config';
import { openDatabase } from '../../server/db/client';
import { TEST_HASH_COST, createTestApp, signUp, startTestServer, uniqueEmail } from '../helpers/app';
import { httpClient } from '../helpers/clients';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const app = await createTestApp();
const server = await startTestServer(app);

async function cli(args: string[], env: Record<string, string>) {
  const res = await run(process.execPath, ['--import', 'tsx', 'client/cli/main.ts', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HUBCAST_CREDENTIALS: '/nonexistent/credentials.json', LOG_LEVEL: 'silent', ...env },
  }).catch((err: { stdout: string; stderr: string; code: number }) => err);
  return { stdout: res.stdout, stderr: res.stderr, code: 'code' in res ? res.code : 0 };
}

describe('npm run cli -- password / logout --everywhere', () => {
  it('password changes it and signs out the other devices; logout --everywhere signs out every one', async () => {
    const email = uniqueEmail('cli');
    const mine = await signUp(app, { email, password: 'first password' });
    const other = await httpClient(server.url).auth.signIn.mutate({ email, password: 'first password' });
    const as = (token: string, extra: Record<string, string> = {}) => ({
      HUBCAST_URL: server.url,
      HUBCAST_TOKEN: token,
      ...extra,
    });

    const wrong = await cli(
      ['password'],
      as(mine.token, { HUBCAST_PASSWORD: 'not the password', HUBCAST_NEW_PASSWORD: 'second password' }),
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('Your current password is wrong.');

    const changed = await cli(
      ['password'],
      as(mine.token, { HUBCAST_PASSWORD: 'first password', HUBCAST_NEW_PASSWORD: 'second password' }),
    );
    expect(changed.stdout).toContain('Password changed. Every other device is signed out');
    expect(await httpClient(server.url, other.token).auth.me.query()).toBeNull();
    expect(await httpClient(server.url, mine.token).auth.me.query()).toMatchObject({ email });

    const third = await httpClient(server.url).auth.signIn.mutate({ email, password: 'second password' });
    const out = await cli(['logout', '--everywhere'], as(mine.token));
    expect(out.stdout).toContain('Signed out on every device.');
    expect(await httpClient(server.url, mine.token).auth.me.query()).toBeNull();
    expect(await httpClient(server.url, third.token).auth.me.query()).toBeNull();
  }, 120_000);
});

describe('npm run cli -- admin grant / revoke', () => {
  it('grants and revokes by e-mail, says so, and refuses an unknown e-mail and the last admin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubcast-admin-cli-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const env = {
      NODE_ENV: 'test',
      PORT: '0',
      UPSTREAMS: 'demo',
      DATA_DIR: dir,
      PASSWORD_HASH_COST: TEST_HASH_COST,
      LOG_LEVEL: 'silent',
    };
    const roles = async () => {
      const local = await createApp(loadConfig(env), { database: await openDatabase({ dataDir: dir }) });
      try {
        const rows = await local.database.db.query.users.findMany({ columns: { email: true, role: true } });
        return Object.fromEntries(rows.map((r) => [r.email, r.role]));
      } finally {
        await local.close();
      }
    };
    const first = await createApp(loadConfig(env), { database: await openDatabase({ dataDir: dir }) });
    await signUp(first, { email: 'first@example.com' });
    await signUp(first, { email: 'second@example.com' });
    await first.close();
    // Port 9 (discard) never answers: no server owns the embedded database.
    const admin = (...args: string[]) => cli(['admin', ...args], { ...env, HUBCAST_URL: 'http://127.0.0.1:9' });

    const unknown = await admin('grant', 'nobody@example.com');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No account has the e-mail nobody@example.com');

    expect((await admin('grant', 'Second@Example.com')).stdout).toContain(
      'second@example.com is now an administrator.',
    );
    expect((await admin('grant', 'second@example.com')).stdout).toContain(
      'is already an administrator: nothing changed.',
    );
    expect((await admin('revoke', 'first@example.com')).stdout).toContain(
      'first@example.com is no longer an administrator',
    );
    const last = await admin('revoke', 'second@example.com');
    expect(last.code).toBe(1);
    expect(last.stderr).toContain('second@example.com is the last administrator: grant another account admin first.');
    expect(await roles()).toEqual({ 'first@example.com': 'user', 'second@example.com': 'admin' });
  }, 180_000);
});
