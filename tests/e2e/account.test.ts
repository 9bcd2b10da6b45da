import { expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { httpClient } from '../helpers/clients';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';

const widths = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'phone (390 px)', viewport: { width: 390, height: 844 } },
];

describeInBrowser('account page in chromium', async () => {
  const app = await createTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  for (const { name, viewport } of widths) {
    it(`changes the password and signs out everywhere, at ${name} with no sideways scroll`, async () => {
      const { page, account, problems } = await signedInPage(browser, app, server);
      await page.setViewportSize(viewport);
      const other = await httpClient(server.url).auth.signIn.mutate({
        email: account.user.email,
        password: 'correct horse battery',
      });

      await page.goto('/');
      await expectLive(page);
      // On a phone the account link sits behind the top bar's Menu.
      if (viewport.width <= 600) await page.getByRole('button', { name: 'Menu' }).click();
      await page.getByTestId('user-name').click();
      await page.getByRole('heading', { name: 'Change password' }).waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

      await page.getByLabel('Current password').fill('not my password');
      await page.getByLabel('New password').fill('a brand new password');
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByRole('alert').getByText('Your current password is wrong.').waitFor();

      await page.getByLabel('Current password').fill('correct horse battery');
      await page.getByLabel('New password').fill('a brand new password');
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByRole('status').getByText('Password changed.').waitFor();
      expect(await httpClient(server.url, other.token).auth.me.query()).toBeNull();
      expect(await httpClient(server.url, account.token).auth.me.query()).toMatchObject({ email: account.user.email });

      await page.getByRole('button', { name: 'Sign out everywhere…' }).click();
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await page.getByRole('button', { name: 'Yes, sign out everywhere' }).click();
      await page.getByRole('tab', { name: 'Create account' }).waitFor();
      expect(await httpClient(server.url, account.token).auth.me.query()).toBeNull();
      expect(problems).toEqual([]);
      await page.context().close();
    }, 90_000);
  }
});
