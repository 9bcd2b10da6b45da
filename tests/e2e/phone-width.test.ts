import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { signUp } from '../helpers/app';
import { converse } from '../helpers/chat';
import { collectionWithCards } from '../helpers/collections';
import { startFakes } from '../helpers/discovery';
import { headerRows, PHONE } from '../helpers/phone';

/** Nothing wider than the screen: no sideways scrolling of the page itself. */
async function overflow(page: Page) {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const wide = [...document.querySelectorAll<HTMLElement>('body *')]
      .filter((el) => el.getBoundingClientRect().right > width + 1 && el.offsetParent !== null)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)} px)`);
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide };
  });
}

/** What is wrong with the page at this width (every page is checked, then all findings reported). */
async function fits(page: Page, what: string): Promise<string[]> {
  const o = await overflow(page);
  return o.scrollWidth <= o.innerWidth
    ? []
    : [`${what} is ${o.scrollWidth} px wide on a ${o.innerWidth} px screen; too wide: ${o.wide.join(', ')}`];
}

/** Visible and wholly inside the screen, not cut off at an edge. */
async function onScreen(locator: ReturnType<Page['getByRole']>, what: string): Promise<string[]> {
  if (!(await locator.isVisible())) return [`${what} is not visible`];
  const box = (await locator.boundingBox())!;
  return box.x >= 0 && box.x + box.width <= PHONE.width
    ? []
    : [`${what} is cut off (${Math.round(box.x)}–${Math.round(box.x + box.width)} px)`];
}

describeInBrowser('every page at phone width (390 px)', async () => {
  const fakes = await startFakes({ dex: { newPerCall: 6 } });
  // As `npm start` in demo mode: the top bar also carries the "Demo data" badge.
  const app = await createTestApp({ ...fakes.env, UPSTREAMS: 'demo' });
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  it('sign-in, discovery, market, chat, collections, vault (admin) and an unknown address fit, in a one-row top bar whose Menu puts the navigation and "Sign out" in reach', async () => {
    const signIn = await browser.newPage({ baseURL: server.url, viewport: PHONE });
    await signIn.goto('/');
    await signIn.getByRole('button', { name: 'Sign in' }).last().waitFor();
    const found = await fits(signIn, 'the sign-in page');
    await signIn.close();

    // The first account is the admin: the vault page is in its navigation.
    const { page, problems, account } = await signedInPage(browser, app, server, {
      name: 'Margaret Hamilton-Lovelace',
    });
    await page.setViewportSize(PHONE);
    // Pages filled as a user sees them: tokens, a conversation with a long unbroken line, a collection.
    await app.discovery.trigger('auto', { maxTokens: 6 });
    const friend = await signUp(app, { name: 'Grace Brewster Murray Hopper' });
    const conversationId = await converse(account, friend);
    await friend.caller.chat.send({
      conversationId,
      content: `see https://example.com/${'a-very-long-path-'.repeat(8)} and tell me`,
    });
    const collection = await collectionWithCards(
      account.caller,
      3,
      'Irregular verbs of the French language, every tense',
    );
    // Each page with what shows it has loaded.
    const pages: Array<[string, string]> = [
      ['/discovery', '[data-testid="token-card"]'],
      ['/market', '.market [data-testid="market-stream"]'],
      ['/chat', '.chat .chat-side'],
      [`/chat?c=${conversationId}`, '.chat-main :text("tell me")'],
      ['/collections', '.collections-page .collections-main'],
      ['/vault', 'h1:text-is("Vault")'],
      ['/no-such-page', 'h1:text-is("Page not found")'],
    ];
    for (const [path, loaded] of pages) {
      await page.goto(path);
      await expectLive(page);
      await page.locator(loaded).first().waitFor({ timeout: 20_000 });
      if (path === '/collections') {
        await page.getByText(collection.title).first().click();
        await page.getByText('front 3').first().waitFor();
      }
      found.push(...(await fits(page, path)));
      // The top bar is one row, even for the admin's longest name; its links sit behind Menu.
      if ((await headerRows(page)) !== 1) found.push(`${path}: the top bar takes more than one row`);
      // The badge follows system.health, which may answer after the page's own content.
      await page
        .getByTestId('demo-badge')
        .waitFor({ timeout: 10_000 })
        .catch(() => {});
      found.push(...(await onScreen(page.getByTestId('demo-badge'), `${path}: the demo badge`)));
      await page.getByRole('button', { name: 'Menu' }).click();
      const nav = page.getByRole('navigation');
      // Every link in reach without scrolling the navigation sideways.
      for (const label of ['Discovery', 'Market', 'Chat', 'Collections', 'Vault'])
        found.push(
          ...(await onScreen(nav.getByRole('link', { name: label, exact: true }), `${path}: the ${label} link`)),
        );
      found.push(...(await onScreen(page.getByRole('button', { name: 'Sign out' }), `${path}: "Sign out"`)));
      if ((await headerRows(page)) !== 1) found.push(`${path}: the open menu pushes the top bar onto more rows`);
      await page.keyboard.press('Escape');
      await nav.waitFor({ state: 'hidden' });
    }
    expect(found).toEqual([]);
    expect(problems).toEqual([]);
  });
});
