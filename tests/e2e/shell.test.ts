import { expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser } from '../helpers/browser';

describeInBrowser('web shell in chromium', async () => {
  const app = await createTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  it('signs up, shows the name and a live connection', async () => {
    const page = await browser.newPage({ baseURL: server.url });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));

    await page.goto('/');
    await page.getByRole('tab', { name: 'Create account' }).click();
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('E-mail').fill('ada@example.com');
    await page.getByLabel('Password').fill('abc');
    await page.getByRole('button', { name: 'Create account' }).click();
    // Bad input is explained next to the field.
    await page.getByText('Passwords need at least 8 characters.').waitFor();
    await page.getByLabel('Password').fill('analytical engine');
    await page.getByRole('button', { name: 'Create account' }).click();

    await page.getByTestId('user-name').getByText('Ada Lovelace').waitFor();
    await expectLive(page);
    expect(await page.getByTestId('demo-badge').isVisible()).toBe(true);
    await page.getByRole('link', { name: 'Market' }).click();
    expect(new URL(page.url()).pathname).toBe('/market');
    expect(errors).toEqual([]);
  });
});
