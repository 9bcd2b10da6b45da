import type { BrowserContext, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../server/modules/auth/cookies';
import { TEST_HASH_COST } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser } from '../helpers/browser';
import { httpClient } from '../helpers/clients';
import { exited, mainStorage, startMain } from '../helpers/main-process';
import { closedPort } from '../helpers/ports';
import { tcpGate } from '../helpers/tcp-gate';
import { waitFor } from '../helpers/wait';

// Issue 18 §7, as a user met it: A has the conversation open in two tabs and reloads one (which
// then has received nothing), the server restarts, B sends a message while the tabs reconnect.
// Both tabs must show it in the thread, once. The reloaded tab used to resubscribe "from now"
// (no lastEventId) and never showed it; only its sidebar preview did, from a refetch.
//
// The real server process runs on a fixed port and its storage (PGlite on disk, or Postgres);
// the browser reaches it through a door (tests/helpers/tcp-gate.ts) that stays shut from the
// stop until B's message is stored, so the message is certainly sent during the reconnect.

/** How many open subscriptions the server counts on `path` (its /metrics, read from loopback). */
async function openSubscriptions(url: string, path: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`hubcast_subscriptions{path="${path}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** The message as the open conversation shows it (the thread, not the sidebar preview). */
const inThread = (page: Page, text: string) =>
  page.getByTestId('chat-conversation').getByTestId('chat-message').filter({ hasText: text });

describeInBrowser('a chat tab across a server restart', async () => {
  const storage = await mainStorage('hubcast-chat-restart-');
  const port = await closedPort();
  const door = await tcpGate({ port });
  // The browser's origin is the door's, as a proxy's would be.
  const env = {
    ...storage,
    PORT: String(port),
    ALLOWED_ORIGINS: door.url,
    NODE_ENV: 'test',
    PASSWORD_HASH_COST: TEST_HASH_COST,
  };
  const browser = await launchBrowser();

  for (const width of [1280, 390]) {
    it(
      `at ${width} px: both of A's tabs show the message B sent while they reconnected, once`,
      { timeout: 150_000 },
      async () => {
        let main = await startMain(env);
        const direct = main.url;
        const anon = httpClient(direct);
        const a = await anon.auth.signUp.mutate({
          email: `ann-${width}@example.com`,
          password: 'a tab across restarts',
          name: `Ann ${width}`,
        });
        const b = await anon.auth.signUp.mutate({
          email: `bob-${width}@example.com`,
          password: 'a tab across restarts',
          name: `Bob ${width}`,
        });
        const bob = httpClient(direct, b.token);
        const { invitationId } = await httpClient(direct, a.token).chat.invite.mutate({ toUserId: b.user.id });
        const conversationId = (await bob.chat.respond.mutate({ invitationId, action: 'accept' })).conversationId!;

        const context: BrowserContext = await browser.newContext({
          baseURL: door.url,
          viewport: { width, height: 844 },
        });
        try {
          await context.addCookies([
            { name: SESSION_COOKIE, value: a.token, url: door.url, httpOnly: true, sameSite: 'Lax' },
          ]);
          const problems: string[] = [];
          const tabs = [await context.newPage(), await context.newPage()];
          for (const tab of tabs) {
            tab.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
            await tab.goto(`/chat?c=${conversationId}`);
            await expectLive(tab);
          }
          await waitFor(async () => (await openSubscriptions(direct, 'chat.events')) === 2, {
            what: "both tabs' chat.events open on the server",
          });
          await bob.chat.send.mutate({ conversationId, content: 'before the restart' });
          for (const tab of tabs) await inThread(tab, 'before the restart').waitFor();

          // The second tab reloads: it shows the history, and has received no event since.
          const reloaded = tabs[1]!;
          await reloaded.reload();
          await expectLive(reloaded);
          await inThread(reloaded, 'before the restart').waitFor();
          await waitFor(async () => (await openSubscriptions(direct, 'chat.events')) === 2, {
            what: "the reloaded tab's chat.events open on the server",
          });

          // Restart: the door shuts first, so no tab reconnects before B's message is stored.
          door.shut();
          main.child.kill('SIGTERM');
          expect(await exited(main.child)).toBe(0);
          for (const tab of tabs)
            await tab.locator('[data-testid="connection"][data-status="reconnecting"]').waitFor({ timeout: 15_000 });
          main = await startMain(env);
          expect(main.url).toBe(direct);
          await httpClient(main.url, b.token).chat.send.mutate({ conversationId, content: 'during the reconnect' });
          for (const tab of tabs)
            expect(await tab.getByTestId('connection').getAttribute('data-status')).toBe('reconnecting');
          door.open();

          for (const [tab, which] of [
            [tabs[0]!, 'the tab that was not reloaded'],
            [reloaded, 'the reloaded tab'],
          ] as const) {
            await expectLive(tab);
            await expect
              .poll(() => inThread(tab, 'during the reconnect').count(), {
                message: `the message in ${which}'s thread`,
                timeout: 30_000,
              })
              .toBe(1);
          }
          // Once: a later message arrives after it, and it is still shown a single time.
          await httpClient(main.url, b.token).chat.send.mutate({ conversationId, content: 'after the reconnect' });
          for (const tab of tabs) {
            await inThread(tab, 'after the reconnect').waitFor();
            expect(await inThread(tab, 'during the reconnect').count()).toBe(1);
          }
          expect(problems).toEqual([]);
        } finally {
          await context.close();
          if (main.child.exitCode === null && main.child.signalCode === null) {
            main.child.kill('SIGTERM');
            await exited(main.child);
          }
        }
      },
    );
  }
});
