import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, signUp, startTestServer } from '../helpers/app';

const app = await createTestApp();
const server = await startTestServer(app);
const root = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);

const env = (token: string) => ({
  PATH: process.env.PATH,
  HUBCAST_URL: server.url,
  HUBCAST_TOKEN: token,
  HUBCAST_CREDENTIALS: '/nonexistent/credentials.json',
});
const cli = async (token: string, ...args: string[]) =>
  (await run(process.execPath, ['--import', 'tsx', 'client/cli/main.ts', ...args], { cwd: root, env: env(token) }))
    .stdout;

let children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children = [];
});

describe('npm run cli -- chat', () => {
  it('invites by name, sends, lists conversations and watches messages as readable lines', async () => {
    const ann = await signUp(app, { name: 'Ann Cli' });
    const bob = await signUp(app, { name: 'Bob Cli' });
    expect(await cli(ann.token, 'chat', 'invite', 'Bob Cli', '--message', 'hi from the terminal')).toMatch(
      /^invited Bob Cli \(invitation \d+\)\n$/,
    );
    const [invitation] = (await bob.caller.chat.invitations({ direction: 'incoming' })).items;
    expect(invitation!.message).toBe('hi from the terminal');
    const { conversationId } = await bob.caller.chat.respond({ invitationId: invitation!.id, action: 'accept' });

    // Bob watches; once his subscription is open, Ann sends from her terminal.
    const open = () => app.stats.subscriptionsByPath()['chat.events'] ?? 0;
    const watcher = spawn(process.execPath, ['--import', 'tsx', 'client/cli/main.ts', 'chat', 'watch'], {
      cwd: root,
      env: env(bob.token),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(watcher);
    let out = '';
    watcher.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    await expect.poll(open, { timeout: 45_000 }).toBe(1);

    expect(await cli(ann.token, 'chat', 'send', String(conversationId), 'hello', 'Bob')).toMatch(
      /^sent message \d+ to #\d+\n$/,
    );
    await expect
      .poll(() => out, { timeout: 20_000 })
      .toMatch(new RegExp(`^\\[\\d\\d:\\d\\d\\] #${conversationId} Ann Cli: hello Bob$`, 'm'));

    const list = await cli(bob.token, 'chat', 'conversations');
    expect(list).toMatch(new RegExp(`^#${conversationId}\\s+Ann Cli\\s+1 unread\\s+Ann Cli: hello Bob$`, 'm'));
    const json = JSON.parse(await cli(bob.token, 'chat', 'conversations', '--json')) as {
      id: number;
      unreadCount: number;
    }[];
    expect(json).toMatchObject([{ id: conversationId, unreadCount: 1 }]);
  }, 120_000);

  it('without a session: says to sign in, with the login command for this server', async () => {
    const failed = await cli('', 'chat', 'conversations').then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(`Sign in first: npm run cli -- login --email you@example.com --url ${server.url}`);
  });
});
