import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { chatMessages } from '../../server/db/schema';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { converse } from '../helpers/chat';

describeInBrowser('chat message text in chromium', async () => {
  const app = await createTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  it('turns http(s) addresses into safe links, shows markup as text, and separates the days', async () => {
    const ann = await signedInPage(browser, app, server, { name: 'Ann Text' });
    const bob = await signedInPage(browser, app, server, { name: 'Bob Text' });
    const conversationId = await converse(ann.account, bob.account);
    const send = async (content: string, at?: Date) => {
      const { message } = await ann.account.caller.chat.send({ conversationId, content });
      // An older day, as if the message had been sent then.
      if (at) await app.db.update(chatMessages).set({ createdAt: at }).where(eq(chatMessages.id, message.id));
    };
    const yesterday = new Date();
    yesterday.setDate(yesterday.getDate() - 1);
    yesterday.setHours(12, 0, 0, 0);
    await send('Long ago', new Date(2024, 2, 14, 12));
    await send('Yesterday morning', yesterday);
    await send('Parens: https://en.wikipedia.org/wiki/Set_(mathematics), (see https://example.com/a).');
    await send('Read https://example.com/docs?a=1&b=2. Then <b>bold</b>, javascript:alert(1) or ftp://example.com');

    const page = bob.page;
    await page.goto(`/chat?c=${conversationId}`);
    await expectLive(page);
    const message = page.getByTestId('chat-message').filter({ hasText: 'Then' });
    await message.waitFor();

    const links = message.getByRole('link');
    expect(await links.count()).toBe(1);
    expect(await links.first().textContent()).toBe('https://example.com/docs?a=1&b=2');
    expect(await links.first().getAttribute('href')).toBe('https://example.com/docs?a=1&b=2');
    expect(await links.first().getAttribute('target')).toBe('_blank');
    expect(await links.first().getAttribute('rel')).toBe('noopener noreferrer');
    // The tag is text on screen, not an element.
    expect(await message.locator('p').textContent()).toBe(
      'Read https://example.com/docs?a=1&b=2. Then <b>bold</b>, javascript:alert(1) or ftp://example.com',
    );
    expect(await message.locator('b').count()).toBe(0);
    // A closing parenthesis belongs to an address that opened one, not to one in parentheses.
    const parens = page.getByTestId('chat-message').filter({ hasText: 'Parens' }).getByRole('link');
    expect(await parens.evaluateAll((links) => links.map((a) => a.getAttribute('href')))).toEqual([
      'https://en.wikipedia.org/wiki/Set_(mathematics)',
      'https://example.com/a',
    ]);

    // One separator before each day's first message, oldest first.
    const days = await page.getByTestId('day-separator').allTextContents();
    expect(days).toHaveLength(3);
    expect(days[0]).toContain('2024');
    expect(days[0]).toContain('14');
    expect(days.slice(1)).toEqual(['Yesterday', 'Today']);
    expect([...ann.problems, ...bob.problems]).toEqual([]);
  });
});
