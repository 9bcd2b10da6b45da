import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { signUp, startTestServer } from '../helpers/app';
import { converse } from '../helpers/chat';
import { deliver } from '../helpers/inbox';
import { marketTestApp } from '../helpers/market';
import { noUpgradeProxy } from '../helpers/no-upgrade-proxy';
import { closedPort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';

// `--transport sse`: every subscribing command over server-sent events, through a proxy that
// refuses WebSocket upgrades (where the default, ws, cannot connect at all).

const MIN = 60_000;
const { app, fake } = await marketTestApp();
const server = await startTestServer(app);
const proxy = await noUpgradeProxy({ port: server.port });
const root = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);

const env = (token: string | undefined, url: string) => ({
  PATH: process.env.PATH,
  HUBCAST_URL: url,
  ...(token ? { HUBCAST_TOKEN: token } : {}),
  HUBCAST_CREDENTIALS: '/nonexistent/credentials.json',
});
const args = (...a: string[]) => ['--import', 'tsx', 'client/cli/main.ts', ...a];
async function cli(token: string | undefined, url: string, ...a: string[]) {
  const res = await run(process.execPath, args(...a), { cwd: root, env: env(token, url) }).catch(
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
  const child = spawn(process.execPath, args(...a), {
    cwd: root,
    env: env(token, proxy.url),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out.stderr += c.toString()));
  return out;
}
const open = (path: string) => app.stats.subscriptionsByPath()[path] ?? 0;

describe('npm run cli -- … --transport sse', () => {
  it('chat watch receives messages through a proxy that refuses upgrades', async () => {
    const ann = await signUp(app, { name: 'Ann Sse' });
    const bob = await signUp(app, { name: 'Bob Sse' });
    const conversationId = await converse(ann, bob);
    const watcher = start(bob.token, 'chat', 'watch', '--transport', 'sse');
    await waitFor(() => watcher.stderr.includes('Connected: watching your chat'), { what: 'the connected line' });
    await ann.caller.chat.send({ conversationId, content: 'over server-sent events' });
    await waitFor(() => watcher.stdout.includes(`#${conversationId} Ann Sse: over server-sent events`), {
      what: 'the message on the watch',
    });
  });

  it('market watch and watch <path> print live events over SSE', async () => {
    const viewer = await signUp(app);
    const market = start(viewer.token, 'market', 'watch', 'BTCUSDT', '1m', '--json', '--transport', 'sse');
    const notes = start(viewer.token, 'watch', 'system.notifications', '--transport', 'sse');
    await waitFor(() => open('market.live') === 1 && open('system.notifications') === 1, {
      what: 'both streams open on the server',
    });
    await waitFor(() => fake.subscriptions().includes('btcusdt@kline_1m'), { what: 'the series followed upstream' });
    fake.advance(MIN);
    const openTime = Math.floor(fake.now / MIN) * MIN - MIN;
    await waitFor(() => market.stdout.includes(`"openTime":${openTime}`), { what: 'the new closed candle' });
    const [note] = await deliver(app, [
      { userId: viewer.user.id, feature: 'test', type: 'hello', payload: { text: 'from sse' } },
    ]);
    await waitFor(() => notes.stdout.includes('from sse'), { what: 'the notification' });
    expect(JSON.parse(notes.stdout.trim().split('\n').at(-1)!)).toMatchObject({ id: String(note!.id) });
  });

  it('without --transport (ws) the proxy leaves the CLI unreachable; a bad --transport is named', async () => {
    const ann = await signUp(app);
    const ws = await cli(ann.token, proxy.url, 'watch', 'system.notifications');
    expect(ws.code).toBe(1);
    expect(ws.stderr).toContain('no WebSocket connection');
    const bad = await cli(ann.token, proxy.url, 'watch', 'system.notifications', '--transport', 'carrier-pigeon');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--transport must be "ws" (WebSocket, the default) or "sse"');
    expect(bad.stderr).toContain('"carrier-pigeon"');
    // Nothing listens there: over SSE too the CLI says so instead of retrying forever.
    const nowhere = `http://127.0.0.1:${await closedPort()}`;
    const down = await cli(ann.token, nowhere, 'watch', 'system.notifications', '--transport', 'sse');
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`Cannot reach the Hubcast server at ${nowhere} (connection refused)`);
  });
});
