import { expect, it } from 'vitest';
import { describeCondition } from '../../shared/market-alerts';
import { startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { marketTestApp } from '../helpers/market';
import { crossingAhead, step } from '../helpers/market-alerts';
import { notWhollyShown, PHONE } from '../helpers/phone';
import { waitFor } from '../helpers/wait';
import { observeBrowser, setHidden, shownNotifications } from '../helpers/desktop';

describeInBrowser('market alerts in chromium', async () => {
  const { app, fake } = await marketTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  for (const [name, viewport] of [
    ['1280 px', { width: 1280, height: 800 }],
    ['a 390 px phone', PHONE],
  ] as const) {
    it(`on ${name}: creates an alert from a click on the chart, toasts when it fires, re-arms and removes it`, async () => {
      const { page, account, problems } = await signedInPage(browser, app, server);
      await page.setViewportSize(viewport);
      await page.goto('/market?s=BTCUSDT&tf=1m');
      await expectLive(page);
      const chart = page.getByTestId('market-chart');
      await chart.waitFor();
      await page.locator('[data-testid="market-stream"][data-status="live"]').waitFor();

      // A click in the price pane opens the form at the price clicked.
      await chart.scrollIntoViewIfNeeded();
      const box = (await chart.boundingBox())!;
      await page.mouse.click(box.x + box.width / 2, box.y + box.height * 0.25);
      const form = page.getByRole('form', { name: 'New alert' });
      await form.waitFor();
      const price = form.getByLabel('Price', { exact: true });
      expect(Number(await price.inputValue())).toBeGreaterThan(0);
      expect(await form.getByLabel('Condition').inputValue()).toMatch(/^price_(above|below)$/);

      // The level the test's exchange crosses soon, in the form the click opened.
      const condition = crossingAhead(fake, 'BTCUSDT', 0.05);
      await form.getByLabel('Condition').selectOption(condition.type);
      await price.fill(String(condition.value));
      await form.getByRole('button', { name: 'Create' }).click();
      const row = page
        .getByTestId('market-alerts')
        .getByRole('row')
        .filter({ hasText: describeCondition(condition) });
      await row.getByTestId('alert-state').getByText('Armed').waitFor();
      await form.waitFor({ state: 'detached' });

      // The exchange moves on until the level is crossed: the toast says so, and the row.
      await waitFor(
        async () => {
          await step(app, fake, 'BTCUSDT');
          return (await account.caller.market.alerts.list()).items[0]?.state === 'fired';
        },
        { what: 'the alert to fire' },
      );
      await page.getByText(/^Alert: BTCUSDT 1m price (above|below) /).waitFor();
      await row
        .getByTestId('alert-state')
        .getByText(/^Fired at /)
        .waitFor();
      expect(await notWhollyShown(page, '[data-testid="market-alerts"] button')).toEqual([]);
      const layout = await page.evaluate(() => ({
        width: window.innerWidth,
        scroll: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      }));
      expect(layout.scroll).toBe(0);

      await row.getByRole('button', { name: /^Re-arm / }).click();
      await row.getByTestId('alert-state').getByText('Armed').waitFor();
      await row.getByRole('button', { name: /^Remove / }).click();
      await row.waitFor({ state: 'detached' });
      await page.getByTestId('market-alerts').getByText('No alerts.', { exact: false }).waitFor();
      expect(problems).toEqual([]);
    });
  }

  it('shows a desktop notification for a fired alert while the tab is hidden, once turned on (the opt-in chat uses)', async () => {
    const { page, account, problems } = await signedInPage(browser, app, server);
    await page.context().grantPermissions(['notifications'], { origin: server.url });
    await page.context().addInitScript(observeBrowser);
    await page.goto('/market?s=BTCUSDT&tf=1m');
    await expectLive(page);
    const toggle = page.getByTestId('market-alerts').getByTestId('desktop-notifications');
    await toggle.getByRole('button', { name: 'Turn on' }).click();
    await toggle.getByRole('button', { name: 'Turn off' }).waitFor();
    const condition = crossingAhead(fake, 'BTCUSDT', 0.05);
    await account.caller.market.alerts.create({ symbol: 'BTCUSDT', timeframe: '1m', condition });
    await setHidden(page, true);
    await waitFor(
      async () => {
        await step(app, fake, 'BTCUSDT');
        return (await account.caller.market.alerts.list()).items[0]?.state === 'fired';
      },
      { what: 'the alert to fire' },
    );
    await expect
      .poll(() => shownNotifications(page))
      .toEqual([{ title: 'Market alert', body: expect.stringMatching(/^Alert: BTCUSDT 1m price (above|below) /) }]);
    expect(problems).toEqual([]);
  });
});
