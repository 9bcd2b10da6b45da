import { expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { waitFor } from '../helpers/wait';

// A description typed into the editor is kept whichever way its author leaves: by the nav, by
// the browser's Back button, or (after asking) by closing or reloading the tab.
describeInBrowser('collection details save themselves in chromium', async () => {
  const app = await createTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  async function editorFor(name: string) {
    const { page, account, problems } = await signedInPage(browser, app, server, { name });
    const { id } = await account.caller.collections.create({ title: 'Travel words' });
    const stored = async () => (await account.caller.collections.get({ id })).collection.description;
    const open = async () => {
      await page.getByTestId('collection-list').getByText('Travel words').click();
      return page.getByTestId('collection-editor').getByLabel('Description');
    };
    return { page, problems, stored, open };
  }

  it('a description left by the nav is stored, shown on coming back and after a reload', async () => {
    const { page, problems, stored, open } = await editorFor('Nav leaver');
    await page.goto('/collections');
    await expectLive(page);
    await (await open()).fill('Words for the trip to Lisbon');
    await page.getByRole('navigation').getByRole('link', { name: 'Market' }).click();
    await page.waitForURL('**/market');
    await waitFor(async () => (await stored()) === 'Words for the trip to Lisbon', { what: 'the description stored' });

    await page.getByRole('navigation').getByRole('link', { name: 'Collections' }).click();
    // The editor shows the stored text (its save's answer updated the page's copy).
    const field = await open();
    await waitFor(async () => (await field.inputValue()) === 'Words for the trip to Lisbon', {
      what: 'the stored description on coming back',
      timeoutMs: 5_000,
    });
    await page.reload();
    expect(await (await open()).inputValue()).toBe('Words for the trip to Lisbon');
    expect(problems).toEqual([]);
  });

  it('the Back button (no blur: the editor just goes away) stores it too, with "Saved" shown while it stays', async () => {
    const { page, problems, stored, open } = await editorFor('Back button');
    await page.goto('/market');
    await page.getByRole('navigation').getByRole('link', { name: 'Collections' }).click();
    const description = await open();
    await description.fill('Greetings first');
    // Leaving the field saves and says so.
    await page.getByTestId('collection-editor').getByLabel('Title').focus();
    await page.getByTestId('details-status').getByText('Saved', { exact: true }).waitFor();
    expect(await stored()).toBe('Greetings first');

    await description.focus();
    await page.keyboard.type(', then numbers');
    await page.goBack();
    await page.waitForURL('**/market');
    await waitFor(async () => (await stored()) === 'Greetings first, then numbers', {
      what: 'the description stored on Back',
    });
    expect(problems).toEqual([]);
  });

  it('reloading the tab with an edit not yet stored asks first', async () => {
    const { page, open } = await editorFor('Tab closer');
    await page.goto('/collections');
    await (await open()).focus();
    await page.keyboard.type('Unsaved thought');
    const asked = page.waitForEvent('dialog', { timeout: 15_000 });
    const reloaded = page.reload();
    const dialog = await asked;
    expect(dialog.type()).toBe('beforeunload');
    await dialog.accept();
    await reloaded;
  });
});
