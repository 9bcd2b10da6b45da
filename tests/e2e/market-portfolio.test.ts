import { expect, it } from 'vitest';
import { startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { holdingStrategy, marketTestApp, openPosition } from '../helpers/market';
import { waitFor } from '../helpers/wait';

const near = (shown: string, expected: number, tolerance = 0.006) =>
  Math.abs(Number(shown.replace(/,/g, '')) - expected) <= tolerance;

describeInBrowser('market positions and trades in chromium', async () => {
  const { app, fake } = await marketTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  it('turning off a strategy with an open position moves it to "Completed trades" without a reload', async () => {
    const { page, account, problems } = await signedInPage(browser, app, server, { name: 'Closer' });
    const s = await account.caller.market.strategies.create(holdingStrategy('Holder'));
    await openPosition(app, fake, account.caller, s.id);

    await page.goto('/market');
    await expectLive(page);
    const positions = page.getByTestId('market-positions');
    const trades = page.getByTestId('market-trades');
    await positions.getByRole('row').filter({ hasText: 'BTCUSDT 1m' }).waitFor();
    await trades.getByText('No trades yet.').waitFor();

    await page.getByRole('button', { name: /^Turn off Holder/ }).click();
    await page.getByText(/^Holder: closed BTCUSDT 1m \(disabled\) at .*, P&L /).waitFor();
    await positions.getByText(/No open positions/).waitFor();
    const trade = trades.getByRole('row').filter({ hasText: 'Holder' });
    await trade.waitFor();
    expect(await trade.innerText()).toMatch(/BTCUSDT 1m[\s\S]*disabled/);
    expect(problems).toEqual([]);
  });

  it("follows the live price in each position's mark and P&L, off the chart's series too, and shows its strategy, quantity, take-profit and stop-loss", async () => {
    const { page, account, problems } = await signedInPage(browser, app, server, { name: 'Marker' });
    const s = await account.caller.market.strategies.create(holdingStrategy('Ether holder', 'ETHUSDT'));
    const position = await openPosition(app, fake, account.caller, s.id, 'ETHUSDT');

    await page.goto('/market');
    await expectLive(page);
    const row = page.getByTestId('market-positions').getByRole('row').filter({ hasText: 'ETHUSDT 1m' });
    await row.waitFor();
    const cells = () =>
      row.evaluate((tr) =>
        Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.dataset.label, td.textContent ?? ''])),
      );
    expect(await cells()).toMatchObject({ Strategy: 'Ether holder', Series: 'ETHUSDT 1m' });
    const shown = await cells();
    expect(near(shown['Quantity']!, position.quantity, position.quantity * 1e-5)).toBe(true);
    // Prices to ETHUSDT's tick (0.01), whatever digits the computed levels carry.
    for (const label of ['Entry', 'Mark', 'Take profit', 'Stop loss']) expect(shown[label]).toMatch(/^\d+\.\d{2}$/);
    expect(near(shown['Take profit']!, position.takeProfitPrice)).toBe(true);
    expect(near(shown['Stop loss']!, position.stopLossPrice)).toBe(true);

    // From here the list is never fetched again: only the live stream can move the mark.
    await page.route(/\/trpc\/.*market\.positions/, (route) => route.abort());
    const before = Number(shown['Mark']);
    const pushed: number[] = [];
    const seen = await waitFor(
      async () => {
        const now = await cells();
        if (Number(now['Mark']) !== before && pushed.some((p) => near(now['Mark']!, p))) return now;
        // A second on within the forming candle: each push carries a new current price.
        fake.advance(1_000);
        pushed.push(fake.forming('ETHUSDT', '1m').close);
        return null;
      },
      { what: 'the mark to follow a pushed price', intervalMs: 100 },
    );
    const mark = Number(seen['Mark']);
    expect(near(seen['Unrealised P&L']!, (mark - position.entryPrice) * position.quantity, 0.011)).toBe(true);
    expect(problems).toEqual([]);
  });
});
