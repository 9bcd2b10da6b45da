import type { Locator, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { converse } from '../helpers/chat';

const toasts = (page: Page) => page.locator('[data-sonner-toast]');

/** The button is not under any toast: it is what a click at its centre reaches, and no toast overlaps it. */
async function clearOfToasts(page: Page, button: Locator) {
  await button.scrollIntoViewIfNeeded();
  const box = (await button.boundingBox())!;
  for (const toast of await toasts(page).all()) {
    const t = (await toast.boundingBox())!;
    const overlaps =
      t.x < box.x + box.width && box.x < t.x + t.width && t.y < box.y + box.height && box.y < t.y + t.height;
    expect(
      overlaps,
      `a toast ${JSON.stringify(t)} covers ${await button.textContent()} ${JSON.stringify(box)} at ${page.viewportSize()?.width}`,
    ).toBe(false);
  }
  const reached = await button.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return hit !== null && el.contains(hit);
  });
  expect(reached, `${await button.textContent()} is reachable`).toBe(true);
}

describeInBrowser('chat toasts in chromium', async () => {
  const app = await createTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  it('a message toast names the sender and the conversation, opens it on click, and covers no main button', async () => {
    const bob = await signedInPage(browser, app, server, { name: 'Bob Toast' });
    const ann = await signedInPage(browser, app, server, { name: 'Ann Toast' });
    const carol = await signedInPage(browser, app, server, { name: 'Carol Toast' });
    const withAnn = await converse(ann.account, bob.account);
    const withCarol = await converse(carol.account, bob.account);

    for (const size of [
      { width: 1280, height: 720 },
      { width: 390, height: 844 },
    ]) {
      await bob.page.setViewportSize(size);
      await bob.page.goto(`/chat?c=${withAnn}`);
      await expectLive(bob.page);
      await bob.page.getByTestId('chat-conversation').getByRole('heading', { name: 'Ann Toast' }).waitFor();

      // A message in the other conversation: who, where, what, and nothing else.
      const text = `Lunch at noon? (${size.width})`;
      await carol.account.caller.chat.send({ conversationId: withCarol, content: text });
      const toast = bob.page.getByTestId('message-toast').filter({ hasText: text });
      await toast.waitFor();
      expect(await toast.innerText()).toBe(`Carol Toast wrote to you\n${text}`);

      const composer = bob.page.getByTestId('chat-conversation');
      await clearOfToasts(bob.page, composer.getByRole('button', { name: 'Send' }));
      if (size.width > 600) {
        await clearOfToasts(bob.page, bob.page.getByRole('button', { name: 'Sign out' }));
        await clearOfToasts(bob.page, bob.page.getByRole('link', { name: 'Chat', exact: true }));
      } else {
        // On a phone the links and "Sign out" are behind Menu, with the unread count on it.
        const menu = bob.page.getByRole('button', { name: /^Menu/ });
        await clearOfToasts(bob.page, menu);
        await menu.getByTestId('menu-count').waitFor();
      }

      await toast.click();
      await bob.page.getByTestId('chat-conversation').getByRole('heading', { name: 'Carol Toast' }).waitFor();
      expect(new URL(bob.page.url()).search).toBe(`?c=${withCarol}`);
      await bob.page.getByTestId('chat-message').getByText(text).waitFor();
      await toast.waitFor({ state: 'detached' });
    }
    expect([...bob.problems, ...ann.problems, ...carol.problems]).toEqual([]);
  });

  it('a system toast says its sentence and no feature name', async () => {
    const bob = await signedInPage(browser, app, server, { name: 'Bob System' });
    const dan = await signedInPage(browser, app, server, { name: 'Dan System' });
    await bob.page.goto('/market');
    await expectLive(bob.page);
    await dan.account.caller.chat.invite({ toUserId: bob.account.user.id });
    const toast = toasts(bob.page).filter({ hasText: 'Dan System invited you to chat.' });
    await toast.waitFor();
    // The close button has no text: what remains is the sentence alone.
    expect((await toast.innerText()).trim()).toBe('Dan System invited you to chat.');
    expect(bob.problems).toEqual([]);
  });
});
