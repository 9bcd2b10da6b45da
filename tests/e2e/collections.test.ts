import type { Page } from 'playwright-core';
import { eq } from 'drizzle-orm';
import { collectionCards, collections } from '../../server/db/schema';
import { expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { waitFor } from '../helpers/wait';

const noHorizontalScroll = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);

describeInBrowser('collections page in chromium', async () => {
  const app = await createTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();
  const open = (path: string) => app.stats.subscriptionsByPath()[path] ?? 0;

  it('a teacher shares a collection by code; the student imports it in one tab and both tabs show it with a toast, at 390 px', async () => {
    const teacher = await signedInPage(browser, app, server, { name: 'Ms Garcia' });
    await teacher.page.goto('/collections');
    await teacher.page.getByLabel('New collection title').fill('Spanish verbs');
    await teacher.page.getByRole('button', { name: 'Create' }).click();
    const editor = teacher.page.getByTestId('collection-editor');
    await editor.getByRole('heading', { name: 'Spanish verbs' }).waitFor();
    for (const [front, back] of [
      ['ser', 'to be'],
      ['tener', 'to have'],
    ]) {
      await editor.getByLabel('Front').fill(front!);
      await editor.getByLabel('Back').fill(back!);
      await editor.getByRole('button', { name: 'Add card' }).click();
      await editor.locator('.card-row').getByText(front!, { exact: true }).waitFor();
    }
    await editor.getByRole('button', { name: 'Move "tener" up' }).click();
    await waitFor(async () => (await editor.locator('.card-row .front').allTextContents()).join() === 'tener,ser', {
      what: 'tener moved up',
    });
    await editor.getByRole('button', { name: 'Share…' }).click();
    const dialog = teacher.page.getByTestId('share-dialog');
    await dialog.getByLabel('Max uses').fill('30');
    await dialog.getByRole('button', { name: 'Create code' }).click();
    const code = (await dialog.getByTestId('new-share-code').textContent())!;
    expect(code).toMatch(/^[2-9A-Z]{5}-[2-9A-Z]{5}$/);
    await dialog.getByText('0 / 30 uses').waitFor();

    const subscribedBefore = { events: open('collections.events'), notes: open('system.notifications') };
    const student = await signedInPage(browser, app, server, { name: 'Student' });
    await student.page.setViewportSize({ width: 390, height: 844 });
    const second = await student.page.context().newPage();
    for (const page of [student.page, second]) {
      await page.goto('/collections');
      await expectLive(page);
    }
    // Both tabs follow the stream before the import, as people's open tabs would.
    await waitFor(() => open('collections.events') === subscribedBefore.events + 2, {
      what: 'both tabs following collections.events',
    });
    await waitFor(() => open('system.notifications') === subscribedBefore.notes + 2, {
      what: 'both tabs following system.notifications',
    });
    await student.page.getByText('No collections yet').waitFor();
    expect(await noHorizontalScroll(student.page)).toBe(true);

    await student.page.getByLabel('Import by code').fill(code.toLowerCase());
    await student.page.getByRole('button', { name: 'Import' }).click();
    for (const page of [student.page, second]) {
      await page.getByTestId('collection-list').getByText('Spanish verbs').waitFor({ timeout: 10_000 });
      await page
        .locator('[data-sonner-toast]')
        .getByText('Imported "Spanish verbs" (2 cards) from Ms Garcia.')
        .waitFor({ timeout: 10_000 });
    }
    // The importing tab opens the copy, cards in the teacher's order.
    const copy = student.page.getByTestId('collection-editor');
    await waitFor(async () => (await copy.locator('.card-row .front').allTextContents()).join() === 'tener,ser', {
      what: "the copy's cards in the teacher's order",
    });
    await copy.getByText('imported from Ms Garcia').waitFor();
    expect(await noHorizontalScroll(student.page)).toBe(true);
    await copy.getByRole('button', { name: 'Share…' }).click();
    await student.page.getByTestId('share-dialog').getByRole('button', { name: 'Create code' }).waitFor();
    expect(await noHorizontalScroll(student.page)).toBe(true);

    // The teacher hears of it and sees the use counted.
    await teacher.page
      .locator('[data-sonner-toast]')
      .getByText('Student imported your collection "Spanish verbs"')
      .waitFor({ timeout: 10_000 });
    await dialog.getByText('1 / 30 uses').waitFor({ timeout: 10_000 });
    expect([...teacher.problems, ...student.problems]).toEqual([]);
  });

  it('shows a page of cards and loads the rest with "Show more", at 390 px', async () => {
    const { page, account, problems } = await signedInPage(browser, app, server, { name: 'Hoarder' });
    const col = await account.caller.collections.create({ title: 'Long list' });
    // Written through the table: 130 addCard calls would only test patience (and the write limit).
    await app.db.insert(collectionCards).values(
      Array.from({ length: 130 }, (_, i) => ({
        userId: account.user.id,
        collectionId: col.id,
        position: i,
        front: `card ${i + 1}`,
      })),
    );
    await app.db.update(collections).set({ cardCount: 130 }).where(eq(collections.id, col.id));
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('/collections');
    await page.getByTestId('collection-list').getByText('Long list').click();
    const editor = page.getByTestId('collection-editor');
    await editor.locator('.card-row .front').getByText('card 100', { exact: true }).waitFor();
    expect(await editor.locator('.card-row').count()).toBe(100);
    await editor.getByRole('button', { name: 'Show more (100 of 130 shown)' }).click();
    await editor.locator('.card-row .front').getByText('card 130', { exact: true }).waitFor();
    expect(await editor.locator('.card-row').count()).toBe(130);
    expect(await editor.getByRole('button', { name: /Show more/ }).count()).toBe(0);
    expect(await noHorizontalScroll(page)).toBe(true);
    expect(problems).toEqual([]);
  });

  it('shows a readable error for a wrong code', async () => {
    const { page } = await signedInPage(browser, app, server, { name: 'Typo' });
    await page.goto('/collections');
    await page.getByLabel('Import by code').fill('ABCDE-0O000');
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByRole('alert').getByText('no I, L or O').waitFor();
    await page.getByLabel('Import by code').fill('ZZZZZ-ZZZZZ');
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByRole('alert').getByText('No collection is shared under ZZZZZ-ZZZZZ').waitFor();
  });
});
