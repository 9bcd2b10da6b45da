import type { Browser, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { App } from '../../server/app';
import type { RunningServer } from '../../server/http';
import { startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { converse } from '../helpers/chat';
import { marketTestApp } from '../helpers/market';
import { notWhollyShown, PHONE } from '../helpers/phone';
import { waitFor } from '../helpers/wait';

/** No sideways scrolling: the page is no wider than the window. */
const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

const WIDTHS = [
  { label: '1280 px', viewport: { width: 1280, height: 800 } },
  { label: '390 px', viewport: PHONE },
];

/** Another tab of the same person (same browser context, so the same session cookie). */
async function anotherTab(page: Page, path: string) {
  const tab = await page.context().newPage();
  await tab.goto(path);
  await expectLive(tab);
  return tab;
}

async function person(browser: Browser, app: App, server: RunningServer, name: string, viewport: typeof PHONE) {
  const p = await signedInPage(browser, app, server, { name });
  await p.page.setViewportSize(viewport);
  return p;
}

describeInBrowser('presence in chromium', async () => {
  const { app } = await marketTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  for (const { label, viewport } of WIDTHS) {
    it(`the online dot comes when the other person opens a tab and goes when their last tab closes (${label})`, async () => {
      const ann = await person(browser, app, server, `Ann Online ${label}`, viewport);
      const bob = await person(browser, app, server, `Bob Online ${label}`, viewport);
      const conversationId = await converse(ann.account, bob.account);
      const status = ann.page.getByTestId('chat-conversation').getByTestId('presence-status');

      await ann.page.goto(`/chat?c=${conversationId}`);
      await expectLive(ann.page);
      await status.and(ann.page.locator('[data-online="false"]')).getByText('offline').waitFor();
      if (viewport === PHONE) {
        // On a phone the list and the conversation are one column each: the header alone here.
        expect(await fitsWidth(ann.page)).toBe(true);
        expect(await notWhollyShown(ann.page, '[data-testid="presence-status"]')).toEqual([]);
      } else {
        await ann.page.locator('[data-testid="online-dot"][data-online="false"]').first().waitFor();
      }

      // Bob opens the chat page: Ann sees him online, in the header and (on a wide screen) the list.
      await bob.page.goto('/chat');
      await expectLive(bob.page);
      await status.and(ann.page.locator('[data-online="true"]')).getByText('online').waitFor();
      if (viewport !== PHONE)
        await ann.page
          .getByTestId('conversation-link')
          .getByRole('img', { name: `Bob Online ${label} is online` })
          .waitFor();
      // Bob sees Ann the same way, in his list.
      await bob.page.getByRole('img', { name: `Ann Online ${label} is online` }).waitFor();

      // A second tab of Bob's, then the first one closed: he is still online.
      const bobAgain = await anotherTab(bob.page, `/chat?c=${conversationId}`);
      await bobAgain.getByTestId('presence-status').and(bobAgain.locator('[data-online="true"]')).waitFor();
      const watches = () => app.stats.subscriptionsByPath()['presence.watch'] ?? 0;
      const before = watches();
      await bob.page.close();
      await waitFor(() => watches() < before, { what: "the closed tab's watch to end" });
      // A message after it, on Ann's one socket: a leave sent when the tab closed would be there first.
      await bob.account.caller.chat.send({ conversationId, content: 'Still here' });
      await ann.page.getByTestId('chat-message').getByText('Still here').waitFor();
      expect(await status.getAttribute('data-online')).toBe('true');
      // His last tab closes: Ann sees him go.
      await bobAgain.close();
      await status.and(ann.page.locator('[data-online="false"]')).getByText('offline').waitFor();

      if (viewport === PHONE) {
        // The list, on a phone: the dot sits in the conversation's row and the row still fits.
        await ann.page.getByRole('link', { name: '← All conversations' }).click();
        await ann.page.locator('[data-testid="conversation-link"] [data-testid="online-dot"]').first().waitFor();
        expect(await fitsWidth(ann.page)).toBe(true);
        expect(await notWhollyShown(ann.page, '[data-testid="online-dot"]')).toEqual([]);
      }
      expect([...ann.problems, ...bob.problems]).toEqual([]);
    });

    it(`shows "N watching" on a market chart and on the discovery page (${label})`, async () => {
      const ann = await person(browser, app, server, `Ann Watching ${label}`, viewport);
      const bob = await person(browser, app, server, `Bob Watching ${label}`, viewport);
      const watching = (page: Page, n: number) =>
        page.locator(`[data-testid="watching"][data-count="${n}"]`).getByText(`${n} watching`).waitFor();
      // Each width its own symbol, so the two runs' watchers never add up.
      const symbol = viewport === PHONE ? 'ETHUSDT' : 'BTCUSDT';

      await ann.page.goto(`/market?s=${symbol}&tf=1m`);
      await expectLive(ann.page);
      await watching(ann.page, 1);
      await bob.page.goto(`/market?s=${symbol}&tf=1m`);
      await watching(bob.page, 2);
      await watching(ann.page, 2);
      expect(await notWhollyShown(ann.page, '[data-testid="watching"]')).toEqual([]);
      expect(await fitsWidth(ann.page)).toBe(true);
      // Bob moves to another timeframe: another chart, another room.
      await bob.page.getByRole('tab', { name: '5m', exact: true }).click();
      await watching(bob.page, 1);
      await watching(ann.page, 1);

      await ann.page.goto('/discovery');
      await bob.page.goto('/discovery');
      await watching(ann.page, 2);
      await watching(bob.page, 2);
      expect(await notWhollyShown(ann.page, '[data-testid="watching"]')).toEqual([]);
      expect(await fitsWidth(ann.page)).toBe(true);
      await bob.page.close();
      await watching(ann.page, 1);
      // The count names nobody.
      expect(await ann.page.getByTestId('watching').innerText()).toBe('1 watching');
      expect([...ann.problems, ...bob.problems]).toEqual([]);
      await ann.page.close();
    });
  }
});
