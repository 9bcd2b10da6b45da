import { expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { converse } from '../helpers/chat';
import { observeBrowser, setHidden as setTabHidden, shownNotifications } from '../helpers/desktop';

describeInBrowser('chat unread counts and desktop notifications in chromium', async () => {
  const app = await createTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  it('counts unread messages on the Chat link and in the title, clears them when read, and notifies only when asked and hidden', async () => {
    const bob = await signedInPage(browser, app, server, { name: 'Bob Unread' });
    const ann = await signedInPage(browser, app, server, { name: 'Ann Unread' });
    const conversationId = await converse(ann.account, bob.account);
    await bob.page.context().grantPermissions(['notifications'], { origin: server.url });
    await bob.page.context().addInitScript(observeBrowser);
    const page = bob.page;
    const chatLink = page.getByRole('link', { name: 'Chat', exact: true });
    const notifications = () => shownNotifications(page);
    const setHidden = (hidden: boolean) => setTabHidden(page, hidden);

    await page.goto('/market');
    await expectLive(page);
    for (const content of ['One', 'Two', 'Three']) await ann.account.caller.chat.send({ conversationId, content });
    await chatLink.getByTestId('nav-count').getByText('3').waitFor();
    expect(await chatLink.getAttribute('title')).toBe('3 unread');
    await expect.poll(() => page.title()).toBe('(3) Hubcast');

    // Reading the conversation clears both.
    await chatLink.click();
    await page.getByTestId('conversation-link').first().click();
    await page.getByTestId('chat-message').getByText('Three').waitFor();
    await chatLink.getByTestId('nav-count').waitFor({ state: 'detached' });
    await expect.poll(() => page.title()).toBe('Hubcast');

    // Hidden, but not turned on: no desktop notification (the count still rises).
    await setHidden(true);
    await ann.account.caller.chat.send({ conversationId, content: 'Not yet' });
    await expect.poll(() => page.title()).toBe('(1) Hubcast');
    expect(await notifications()).toEqual([]);

    // Turned on: a hidden tab notifies; a tab in view does not.
    await setHidden(false);
    await expect.poll(() => page.title()).toBe('Hubcast');
    const toggle = page.getByTestId('desktop-notifications');
    await toggle.getByRole('button', { name: 'Turn on' }).click();
    await toggle.getByRole('button', { name: 'Turn off' }).waitFor();
    await ann.account.caller.chat.send({ conversationId, content: 'While you look' });
    await page.getByTestId('chat-message').getByText('While you look').waitFor();
    await setHidden(true);
    await ann.account.caller.chat.send({ conversationId, content: 'Are you there?' });
    await expect.poll(notifications).toEqual([{ title: 'Ann Unread wrote to you', body: 'Are you there?' }]);
    expect([...bob.problems, ...ann.problems]).toEqual([]);
  });
});
