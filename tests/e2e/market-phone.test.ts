import { expect, it } from 'vitest';
import { startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { holdingStrategy, marketTestApp, openPosition } from '../helpers/market';
import { headerRows, notWhollyShown, PHONE } from '../helpers/phone';

describeInBrowser('the market page on a 390 px phone', async () => {
  const { app, fake } = await marketTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  it("shows every action and P&L whole (tables become cards), and the admin's top bar stays one row with the links behind Menu", async () => {
    // The first account is the admin: the longest bar (Vault link, admin badge), and demo data.
    const { page, account, problems } = await signedInPage(browser, app, server, {
      name: 'Margaret Hamilton-Lovelace',
    });
    const holding = await account.caller.market.strategies.create(holdingStrategy('Holder'));
    const closing = await account.caller.market.strategies.create(holdingStrategy('Closer'));
    await openPosition(app, fake, account.caller, holding.id);
    await openPosition(app, fake, account.caller, closing.id);
    await account.caller.market.strategies.setEnabled({ id: closing.id, enabled: false });

    await page.setViewportSize(PHONE);
    await page.goto('/market');
    await expectLive(page);
    await page.getByTestId('market-positions').getByRole('row').filter({ hasText: 'Holder' }).waitFor();
    await page.getByTestId('market-trades').getByRole('row').filter({ hasText: 'Closer' }).waitFor();
    await page
      .getByTestId('market-strategies')
      .getByRole('button', { name: /^Turn on RSI reversal/ })
      .first()
      .waitFor();

    expect(await page.locator('.market button').count()).toBeGreaterThan(10);
    expect(await notWhollyShown(page, '.market button')).toEqual([]);
    expect(await notWhollyShown(page, '.market td[data-label*="P&L"]')).toEqual([]);
    expect(await page.locator('.market td[data-label*="P&L"]').count()).toBe(2);
    expect(await headerRows(page)).toBe(1);
    expect(await notWhollyShown(page, '.topbar > :not(.topbar-menu)')).toEqual([]);

    // Menu opens the links and the account under the bar, which stays one row.
    await page.getByRole('button', { name: 'Menu' }).click();
    for (const label of ['Discovery', 'Market', 'Chat', 'Collections', 'Vault'])
      await page.getByRole('navigation').getByRole('link', { name: label, exact: true }).waitFor();
    expect(await notWhollyShown(page, '.topbar-menu a, .topbar-menu button')).toEqual([]);
    expect(await headerRows(page)).toBe(1);
    await page.getByRole('navigation').getByRole('link', { name: 'Chat', exact: true }).click();
    await page.waitForURL(/\/chat$/);
    await expect(page.getByRole('navigation').isVisible()).resolves.toBe(false);
    expect(problems).toEqual([]);
  });
});
