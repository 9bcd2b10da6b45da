import { expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { converse } from '../helpers/chat';

describeInBrowser('chat search results in chromium', async () => {
  const app = await createTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  it('offers "Open conversation" for someone you talk to, shows a pending invitation, and invites only the others', async () => {
    const ann = await signedInPage(browser, app, server, { name: 'Ann Searcher' });
    const bob = await signedInPage(browser, app, server, { name: 'Bob Searched' });
    const cat = await signedInPage(browser, app, server, { name: 'Cat Searched' });
    const dan = await signedInPage(browser, app, server, { name: 'Dan Searched' });
    const withBob = await converse(bob.account, ann.account);
    await ann.account.caller.chat.invite({ toUserId: cat.account.user.id });

    const page = ann.page;
    await page.goto('/chat');
    await expectLive(page);
    await page.getByLabel('Search people').fill('Searched');
    await page.getByRole('button', { name: 'Search' }).click();
    const row = (name: string) => page.getByTestId('person').filter({ hasText: name });
    await row('Bob Searched').getByRole('link', { name: 'Open conversation' }).waitFor();
    await row('Cat Searched').getByText('Invitation pending').waitFor();
    await row('Dan Searched').getByRole('button', { name: 'Invite' }).waitFor();
    for (const name of ['Bob Searched', 'Cat Searched'])
      expect(await row(name).getByRole('button', { name: 'Invite' }).count()).toBe(0);

    // Inviting Dan turns his row into a pending invitation: no second invitation can go out.
    await row('Dan Searched').getByRole('button', { name: 'Invite' }).click();
    await row('Dan Searched').getByText('Invitation pending').waitFor();

    // Dan accepts elsewhere: his row offers the conversation, live.
    const [toDan] = (await dan.account.caller.chat.invitations({ direction: 'incoming' })).items;
    await dan.account.caller.chat.respond({ invitationId: toDan!.id, action: 'accept' });
    await row('Dan Searched').getByRole('link', { name: 'Open conversation' }).waitFor();

    await row('Bob Searched').getByRole('link', { name: 'Open conversation' }).click();
    await page.getByTestId('chat-conversation').getByRole('heading', { name: 'Bob Searched' }).waitFor();
    expect(new URL(page.url()).search).toBe(`?c=${withBob}`);
    const outgoing = await ann.account.caller.chat.invitations({ direction: 'outgoing' });
    expect(outgoing.items.map((i) => i.to.name)).toEqual(['Cat Searched']);
    expect([...ann.problems, ...bob.problems, ...cat.problems, ...dan.problems]).toEqual([]);
  });
});
