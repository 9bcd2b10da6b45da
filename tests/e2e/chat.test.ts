import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';

/** No sideways scrolling: the page is no wider than the window. */
const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

describeInBrowser('chat in chromium', async () => {
  const app = await createTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  it('two people invite, accept, talk, see typing, unread badges and read receipts, without a reload', async () => {
    const ann = await signedInPage(browser, app, server, { name: 'Ann Webchat' });
    const bob = await signedInPage(browser, app, server, { name: 'Bob Webchat' });
    for (const p of [ann.page, bob.page]) {
      await p.goto('/chat');
      await expectLive(p);
    }

    // Ann finds Bob and invites him; Bob sees it arrive and accepts.
    await ann.page.getByLabel('Search people').fill('Bob Web');
    await ann.page.getByRole('button', { name: 'Search' }).click();
    await ann.page.getByLabel('Invitation note').fill('About the release');
    await ann.page.getByTestId('chat-people').getByRole('button', { name: 'Invite' }).click();
    await ann.page.getByTestId('outgoing-invitation').getByText('Waiting for Bob Webchat').waitFor();
    const invitation = bob.page.getByTestId('incoming-invitation');
    await invitation.getByText('About the release').waitFor();
    await invitation.getByRole('button', { name: 'Accept' }).click();

    // The conversation appears on both sides; both open it.
    for (const p of [ann.page, bob.page]) await p.getByTestId('conversation-link').first().click();
    await ann.page.getByTestId('chat-conversation').getByRole('heading', { name: 'Bob Webchat' }).waitFor();

    // Ann types: Bob sees it. Ann sends: Bob sees the message, and Ann sees that he read it.
    await ann.page.getByLabel('Message').pressSequentially('Hi Bob');
    await bob.page.getByTestId('typing').getByText('Ann Webchat is typing…').waitFor();
    // She pauses: the indicator lapses by itself, with no further event.
    await bob.page.getByTestId('typing').getByText('Ann Webchat is typing…').waitFor({ state: 'hidden' });
    await ann.page.getByLabel('Message').press('Enter');
    await bob.page.getByTestId('chat-message').getByText('Hi Bob').waitFor();
    await ann.page.getByTestId('read-receipt').waitFor();
    await bob.page.getByLabel('Message').fill('Hello Ann');
    await bob.page.getByRole('button', { name: 'Send' }).click();
    await ann.page.getByTestId('chat-message').getByText('Hello Ann').waitFor();

    // Bob leaves the conversation; Ann's next two messages show as unread, with a toast.
    await bob.page.getByRole('link', { name: 'Chat', exact: true }).click();
    for (const text of ['Are you there?', 'Ping']) {
      await ann.page.getByLabel('Message').fill(text);
      await ann.page.getByLabel('Message').press('Enter');
    }
    await bob.page.getByTestId('unread-badge').getByText('2').waitFor();
    await bob.page.getByText('Ping', { exact: true }).first().waitFor();
    await bob.page.getByTestId('conversation-link').first().click();
    await bob.page.getByTestId('chat-message').getByText('Ping').waitFor();
    await bob.page.getByTestId('unread-badge').waitFor({ state: 'detached' });
    await expect.poll(() => ann.page.getByTestId('read-receipt').count()).toBe(1);
    await ann.page.getByTestId('chat-message').filter({ hasText: 'Ping' }).getByTestId('read-receipt').waitFor();

    // A reload shows the same history and read state (from the server, not from memory).
    await ann.page.reload();
    await ann.page.getByTestId('chat-message').getByText('Hi Bob').waitFor();
    await ann.page.getByTestId('chat-message').filter({ hasText: 'Ping' }).getByTestId('read-receipt').waitFor();
    expect(await ann.page.getByTestId('chat-message').count()).toBe(4);

    expect([...ann.problems, ...bob.problems]).toEqual([]);
  });

  it('works at 390 px wide: one column, no sideways scrolling, a way back to the list', async () => {
    const ann = await signedInPage(browser, app, server, { name: 'Ann Phone' });
    const bob = await signedInPage(browser, app, server, { name: 'Bob Phone' });
    const { invitationId } = await ann.account.caller.chat.invite({ toUserId: bob.account.user.id });
    const { conversationId } = await bob.account.caller.chat.respond({ invitationId, action: 'accept' });
    await bob.account.caller.chat.send({
      conversationId: conversationId!,
      content: `A long line without spaces: ${'x'.repeat(300)}`,
    });
    const page = ann.page;
    await page.setViewportSize({ width: 390, height: 844 });

    await page.goto('/chat');
    await page.getByTestId('conversation-link').first().waitFor();
    expect(await fitsWidth(page)).toBe(true);

    await page.getByTestId('conversation-link').first().click();
    await page.getByTestId('chat-message').first().waitFor();
    expect(await page.getByTestId('chat-people').isVisible()).toBe(false);
    expect(await fitsWidth(page)).toBe(true);
    await page.getByLabel('Message').fill('From my phone');
    await page.getByLabel('Message').press('Enter');
    await page.getByTestId('chat-message').getByText('From my phone').waitFor();
    await page.getByRole('link', { name: '← All conversations' }).click();
    await page.getByTestId('chat-people').waitFor();
    expect(ann.problems).toEqual([]);
  });
});
