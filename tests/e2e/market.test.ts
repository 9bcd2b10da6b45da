import { expect, it } from 'vitest';
import { startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { marketTestApp, until } from '../helpers/market';

const MIN = 60_000;

describeInBrowser('market page in chromium', async () => {
  const { app, fake } = await marketTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  it('draws the candle chart and moves it when a new candle arrives live', async () => {
    const { page, problems } = await signedInPage(browser, app, server, { name: 'Chartist' });
    await page.goto('/market');
    await expectLive(page);
    const chart = page.getByTestId('market-chart');
    const current = Math.floor(fake.now / MIN) * MIN;
    // History from REST: the last closed candle is the one before the forming one.
    await chart.and(page.locator(`[data-last-candle-time="${current - MIN}"]`)).waitFor({ timeout: 15_000 });
    expect(await page.locator('.market-chart canvas').count()).toBeGreaterThan(0);
    await expect(page.getByTestId('market-strategies').getByText('RSI reversal').first().isVisible()).resolves.toBe(true);

    await until(() => fake.subscriptions().includes('btcusdt@kline_1m'), 'the page to start the upstream stream');
    fake.advance(MIN);
    await chart.and(page.locator(`[data-last-candle-time="${current + MIN}"]`)).waitFor({ timeout: 10_000 });
    expect(problems).toEqual([]);
  });

  it('edits a strategy\'s RSI thresholds, and editing another field keeps them', async () => {
    const { page, account } = await signedInPage(browser, app, server, { name: 'Tuner' });
    await page.goto('/market');
    const strategies = page.getByTestId('market-strategies');
    const firstRsi = strategies.getByRole('row').filter({ hasText: 'RSI reversal' }).filter({ hasText: 'BTCUSDT 1m' });
    await firstRsi.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Buy when RSI below').fill('25');
    await page.getByLabel('Sell when RSI above').fill('75');
    await page.getByRole('button', { name: 'Save' }).click();
    await firstRsi.getByText('RSI < 25 / > 75').waitFor();

    await firstRsi.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Take profit %').fill('4');
    await page.getByRole('button', { name: 'Save' }).click();
    await firstRsi.getByText('TP 4%').waitFor();
    const saved = (await account.caller.market.strategies.list()).items.find((s) => s.name === 'RSI reversal' && s.timeframe === '1m')!;
    expect(saved).toMatchObject({ takeProfitPct: 4, rule: { type: 'rsi', oversold: 25, overbought: 75 } });
  });
});
