import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { setRole } from '../../server/modules/auth/roles';
import { signUp, startTestServer, uniqueEmail } from '../helpers/app';
import { httpClient } from '../helpers/clients';
import { converse } from '../helpers/chat';
import { marketTestApp } from '../helpers/market';
import { waitFor } from '../helpers/wait';

// What a terminal user expects of any CLI: exit codes a script can read, quiet pipes, local
// times, a word when a watch is connected, headings in words.

const { app, fake } = await marketTestApp();
const server = await startTestServer(app);
const root = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);
/** Kathmandu is UTC+5:45: its local minutes never match UTC's. */
const TZ = 'Asia/Kathmandu';

const env = (token?: string) => ({
  PATH: process.env.PATH,
  TZ,
  HUBCAST_URL: server.url,
  ...(token ? { HUBCAST_TOKEN: token } : {}),
  HUBCAST_CREDENTIALS: '/nonexistent/credentials.json',
});
const args = (...a: string[]) => ['--import', 'tsx', 'client/cli/main.ts', ...a];
async function cli(token: string | undefined, ...a: string[]) {
  const res = await run(process.execPath, args(...a), { cwd: root, env: env(token) }).catch(
    (err: { stdout: string; stderr: string; code: number }) => err,
  );
  return { stdout: res.stdout, stderr: res.stderr, code: 'code' in res ? res.code : 0 };
}

let children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children = [];
});
function start(token: string, ...a: string[]) {
  const child = spawn(process.execPath, args(...a), { cwd: root, env: env(token), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const out = { stdout: '', stderr: '', code: undefined as number | null | undefined };
  child.stdout!.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out.stderr += c.toString()));
  child.on('exit', (code) => (out.code = code));
  return { child, out };
}

describe('the CLI as a terminal user expects it', () => {
  it('whoami exits 1 with the sign-in hint when signed out, 0 when signed in', async () => {
    const out = await cli(undefined, 'whoami');
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^Not signed in\. Sign in with: .*login/m);
    const ann = await signUp(app, { name: 'Ann Whoami' });
    const signedIn = await cli(ann.token, 'whoami');
    expect(signedIn.code).toBe(0);
    expect(signedIn.stdout).toMatch(/^Signed in as Ann Whoami/);
  });

  it('chat watch says it is connected before any message; history shows local times, --json ISO', async () => {
    const ann = await signUp(app, { name: 'Ann Local' });
    const bob = await signUp(app, { name: 'Bob Local' });
    const conversationId = await converse(ann, bob);
    const watcher = start(bob.token, 'chat', 'watch');
    await waitFor(() => watcher.out.stderr.includes('Connected: watching your chat'), {
      what: 'the connected line',
    });
    expect(watcher.out.stdout).toBe('');

    const { message } = await ann.caller.chat.send({ conversationId, content: 'what time is it' });
    const local = message.createdAt.toLocaleString('sv-SE', { timeZone: TZ }).slice(11, 16);
    const utc = message.createdAt.toISOString().slice(11, 16);
    expect(local).not.toBe(utc);
    await waitFor(() => watcher.out.stdout.includes(`[${local}] #${conversationId} Ann Local: what time is it`), {
      what: 'the message in local time on the watch',
    });
    const history = await cli(bob.token, 'chat', 'history', String(conversationId));
    expect(history.stdout).toContain(`[${local}] #${conversationId} Ann Local: what time is it`);
    const json = JSON.parse((await cli(bob.token, 'chat', 'history', String(conversationId), '--json')).stdout) as {
      createdAt: string;
    }[];
    expect(json.at(-1)!.createdAt).toBe(message.createdAt.toISOString());
  });

  it('market watch --json piped into a reader that stops (| head -1) ends quietly with exit 0', async () => {
    const viewer = await signUp(app, { name: 'Pipe Viewer' });
    const watcher = start(viewer.token, 'market', 'watch', 'BTCUSDT', '1m', '--json');
    await waitFor(
      () => {
        fake.advance(0);
        return watcher.out.stdout.includes('\n');
      },
      { what: 'the first line', intervalMs: 100 },
    );
    // What `head -1` does after its line: close the pipe while the CLI keeps writing.
    watcher.child.stdout!.destroy();
    await waitFor(
      () => {
        fake.advance(0);
        return watcher.out.code !== undefined;
      },
      { what: 'the CLI to exit', intervalMs: 100 },
    );
    expect(watcher.out.code).toBe(0);
    expect(watcher.out.stderr).not.toMatch(/EPIPE|at .*\.(js|ts):\d+/);
  });

  it('vault status heads its columns in words and shows the scheduler in a sentence', async () => {
    const email = uniqueEmail('vault-admin');
    await signUp(app, { email, password: 'admin password' });
    await setRole(app.database.db, email, 'admin');
    // A role change ends the account's sessions: sign in again as the admin.
    const { token } = await httpClient(server.url).auth.signIn.mutate({ email, password: 'admin password' });
    const out = await cli(token, 'vault', 'status');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^Scheduler: (stopped|running every \d+ min, next .+); last run .+\.$/m);
    expect(out.stdout).not.toMatch(/lastRefreshAt|expiresAt|isActive|intervalMinutes/);
    const json = JSON.parse((await cli(token, 'vault', 'status', '--json')).stdout) as { scheduler: object };
    expect(json.scheduler).toHaveProperty('intervalMinutes');
  });
});
