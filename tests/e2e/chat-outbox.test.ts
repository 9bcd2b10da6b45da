import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { RunningServer } from '../../server/http';
import { SESSION_COOKIE } from '../../server/modules/auth/cookies';
import { offlineSwitch } from '../helpers/offline-switch';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser } from '../helpers/browser';
import { converse } from '../helpers/chat';
import { waitFor } from '../helpers/wait';

// Issue 22 §3: messages written while the API cannot be reached wait in the browser's outbox
// (IndexedDB), survive a reload, and are sent once when it is back; a refused send says why and
// can be retried or discarded. Ann has the conversation open in two tabs (one outbox, shared);
// Bob, in a browser context of his own, must receive each message once.

type Account = Awaited<ReturnType<typeof signUp>>;

/** A signed-in browser context at `width`, with its pages collecting page errors. */
async function contextFor(browser: Browser, server: RunningServer, account: Account, width: number) {
  const context: BrowserContext = await browser.newContext({ baseURL: server.url, viewport: { width, height: 844 } });
  await context.addCookies([
    { name: SESSION_COOKIE, value: account.token, url: server.url, httpOnly: true, sameSite: 'Lax' },
  ]);
  const problems: string[] = [];
  const open = async (path: string) => {
    const page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await page.goto(path);
    return page;
  };
  return { context, problems, open };
}

/** The message as the open conversation's thread shows it, stored (not pending). */
const inThread = (page: Page, text: string) =>
  page.getByTestId('chat-conversation').getByTestId('chat-message').filter({ hasText: text });
const pending = (page: Page) => page.getByTestId('chat-conversation').getByTestId('chat-pending');
const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

async function write(page: Page, text: string) {
  await page.getByLabel('Message').fill(text);
  await page.getByLabel('Message').press('Enter');
}

/** How many times the server stored each text in the conversation (newest 100 messages). */
async function storedCounts(account: Account, conversationId: number, texts: string[]) {
  const { items } = await account.caller.chat.messages({ conversationId, limit: 100 });
  return texts.map((t) => items.filter((m) => m.content === t).length);
}

/**
 * Sends from the server side until chat.send refuses with at least 6 s left in its window, so
 * the browser's next send is refused too, even on a slow machine (a refusal does not extend it).
 */
async function exhaustSendLimit(account: Account, conversationId: number) {
  await waitFor(
    async () => {
      try {
        await account.caller.chat.send({ conversationId, content: 'filler' });
        return false;
      } catch (err) {
        return Number(/try again in (\d+) s/.exec(String(err))?.[1] ?? 0) >= 6;
      }
    },
    { what: 'chat.send to refuse with 6 s or more left' },
  );
}

describeInBrowser('the chat outbox in chromium', async () => {
  const app = await createTestApp();
  const server = await startTestServer(app);
  // A page loaded while offline comes from Playwright (offline-switch.ts), which chromium counts
  // as a public address: its local network checks would then refuse it the loopback server.
  const browser = await launchBrowser({ extraArgs: ['--disable-features=LocalNetworkAccessChecks'] });

  for (const width of [1280, 390]) {
    it(
      `at ${width} px: written offline, kept across a reload, sent once when back; a refusal says why`,
      { timeout: 150_000 },
      async () => {
        const ann = await signUp(app, { name: `Ann Outbox ${width}` });
        const bob = await signUp(app, { name: `Bob Outbox ${width}` });
        const cy = await signUp(app, { name: `Cy Outbox ${width}` });
        const conversationId = await converse(ann, bob);
        const elsewhere = await converse(ann, cy);
        const path = `/chat?c=${conversationId}`;

        const annSide = await contextFor(browser, server, ann, width);
        const bobSide = await contextFor(browser, server, bob, width);
        try {
          const gate = offlineSwitch(annSide.context, server);
          const [tab, other] = [await annSide.open(path), await annSide.open(path)] as [Page, Page];
          const bobPage = await bobSide.open(path);
          for (const p of [tab, other, bobPage]) await expectLive(p);
          // The reload below, offline, is answered by the app's service worker.
          await gate.shellKept(tab);

          // Online, a message goes through the outbox too, and shows once everywhere.
          await write(tab, 'while online');
          for (const p of [tab, other, bobPage]) await inThread(p, 'while online').waitFor();

          // Offline: both of Ann's tabs lose the connection; two messages wait, shown in both tabs.
          await gate.goOffline();
          for (const p of [tab, other])
            await p.locator('[data-testid="connection"][data-status="offline"]').waitFor({ timeout: 15_000 });
          await write(tab, 'offline one');
          await write(tab, 'offline two');
          for (const p of [tab, other]) {
            await expect.poll(() => pending(p).count()).toBe(2);
            await pending(p)
              .filter({ hasText: 'offline two' })
              .getByText(/Pending/)
              .waitFor();
          }

          // A reload while offline still shows them, from IndexedDB.
          await tab.reload();
          await expect
            .poll(() =>
              pending(tab)
                .filter({ hasText: /offline (one|two)/ })
                .count(),
            )
            .toBe(2);
          expect(await fitsWidth(tab)).toBe(true);
          expect(await storedCounts(ann, conversationId, ['offline one', 'offline two'])).toEqual([0, 0]);

          // Back online: each is sent once; every tab and Bob show each once, and nothing is pending.
          await gate.goOnline();
          for (const p of [tab, other]) await expectLive(p);
          for (const p of [tab, other, bobPage]) {
            for (const text of ['offline one', 'offline two'])
              await expect.poll(() => inThread(p, text).count(), { message: `"${text}" shown once` }).toBe(1);
          }
          for (const p of [tab, other]) await expect.poll(() => pending(p).count()).toBe(0);
          expect(await storedCounts(ann, conversationId, ['offline one', 'offline two'])).toEqual([1, 1]);

          // Refused: the server's reason in words, with Retry and Discard.
          await exhaustSendLimit(ann, elsewhere);
          await write(tab, 'to be discarded');
          const discarded = pending(tab).filter({ hasText: 'to be discarded' });
          await discarded.getByText(/Not sent: Too many requests: try again in \d+ s\./).waitFor();
          expect(await fitsWidth(tab)).toBe(true);
          await discarded.getByRole('button', { name: 'Discard' }).click();
          for (const p of [tab, other]) await expect.poll(() => pending(p).count()).toBe(0);

          await exhaustSendLimit(ann, elsewhere);
          await write(tab, 'sent on retry');
          const refused = pending(tab).filter({ hasText: 'sent on retry' });
          await refused.getByText(/Not sent: Too many requests/).waitFor();
          // The limit's window lapses within 10 s: once a send elsewhere is accepted again, Retry is.
          await waitFor(() => ann.caller.chat.send({ conversationId: elsewhere, content: 'room again' }), {
            what: 'chat.send to accept again',
            intervalMs: 500,
          });
          await refused.getByRole('button', { name: 'Retry' }).click();
          for (const p of [tab, other, bobPage]) {
            await expect.poll(() => inThread(p, 'sent on retry').count()).toBe(1);
            await expect.poll(() => pending(p).count()).toBe(0);
          }
          expect(await storedCounts(ann, conversationId, ['sent on retry', 'to be discarded'])).toEqual([1, 0]);
          expect(await inThread(bobPage, 'to be discarded').count()).toBe(0);

          // Bounded: with OUTBOX_MAX (200) entries waiting in this browser (another account's, put
          // straight into IndexedDB, so nobody sends them), no more are kept, and the page says so.
          await tab.evaluate(async () => {
            const db = await new Promise<IDBDatabase>((resolve, reject) => {
              const req = indexedDB.open('hubcast');
              req.onsuccess = () => resolve(req.result);
              req.onerror = () => reject(req.error);
            });
            const tx = db.transaction('outbox', 'readwrite');
            for (let i = 0; i < 200; i++)
              tx.objectStore('outbox').put({
                clientId: `seeded-${i}`,
                userId: 'someone-else',
                conversationId: 1,
                content: `seeded ${i}`,
                createdAt: i,
                error: null,
              });
            await new Promise((resolve) => (tx.oncomplete = resolve));
            db.close();
          });
          await tab.reload();
          await tab
            .getByTestId('outbox-full')
            .getByText(/200 messages are waiting/)
            .waitFor();
          await tab.getByLabel('Message').fill('one too many');
          expect(await tab.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
          expect(await fitsWidth(tab)).toBe(true);

          expect([...annSide.problems, ...bobSide.problems]).toEqual([]);
        } finally {
          await annSide.context.close();
          await bobSide.context.close();
        }
      },
    );
  }
});
