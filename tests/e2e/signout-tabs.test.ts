import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../server/modules/auth/cookies';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';

describeInBrowser('signing out in chromium', async () => {
  const app = await createTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  it('sends every tab of the session to the sign-in page at once, in this browser and in another', async () => {
    const first = await signedInPage(browser, app, server, { name: 'Tabby Many' });
    const second = await first.page.context().newPage();
    // Another browser on the same session: no BroadcastChannel reaches it, only the server's signal.
    const elsewhere = await browser.newContext({ baseURL: server.url });
    await elsewhere.addCookies([
      { name: SESSION_COOKIE, value: first.account.token, url: server.url, httpOnly: true, sameSite: 'Lax' },
    ]);
    const third = await elsewhere.newPage();
    const problems: string[] = [];
    for (const p of [second, third]) p.on('pageerror', (err) => problems.push(err.message));
    const others: Page[] = [second, third];

    for (const [p, path] of [
      [first.page, '/chat'],
      [second, '/collections'],
      [third, '/market'],
    ] as const) {
      await p.goto(path);
      await expectLive(p);
      await p.getByTestId('user-name').getByText('Tabby Many').waitFor();
    }

    await first.page.getByRole('button', { name: 'Sign out' }).click();
    for (const p of [first.page, ...others]) {
      await p.getByRole('button', { name: 'Sign in' }).last().waitFor();
      expect(await p.getByTestId('user-name').count()).toBe(0);
      expect(await p.getByTestId('connection').count()).toBe(0);
    }
    await elsewhere.close();
    expect([...first.problems, ...problems]).toEqual([]);
  });
});
