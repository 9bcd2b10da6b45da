import { expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { marketTestApp, until } from '../helpers/market';

const MIN = 60_000;

describeInBrowser('market page in chromium', async () => {
  const { app, fake } = await marketTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  it("fits a 390 px phone with no horizontal scroll, lists the chart series' strategies first, and labels their state", async () => {
    const { page, problems } = await signedInPage(browser, app, server, { name: 'Phone' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('/market');
    await page.getByRole('heading', { name: 'Market', level: 1 }).waitFor();
    await page.getByTestId('market-chart').waitFor({ timeout: 15_000 });
    const strategies = page.getByTestId('market-strategies');
    await strategies.locator('tbody').first().waitFor();
    const fits = () =>
      page.evaluate(() => {
        const market = document.querySelector('.market')!;
        const cards = [...market.querySelectorAll('.card')];
        return {
          width: window.innerWidth,
          market: market.getBoundingClientRect().right,
          scroll: market.scrollWidth - market.clientWidth,
          cards: cards.map((c) => Math.round(c.getBoundingClientRect().right)),
        };
      });
    const layout = await fits();
    expect(layout.market).toBeLessThanOrEqual(layout.width);
    expect(layout.scroll).toBe(0);
    expect(layout.cards.every((r) => r <= layout.width)).toBe(true);

    // The chart's series first; another timeframe brings its own strategies to the top.
    expect(await strategies.locator('tbody').first().getByRole('rowheader').innerText()).toMatch(/^BTCUSDT 1m/);
    await page.getByRole('tab', { name: '5m', exact: true }).click();
    await strategies
      .locator('tbody.current')
      .getByRole('rowheader', { name: /BTCUSDT 5m/ })
      .waitFor();
    const rsi = strategies.locator('tbody.current').getByRole('row').filter({ hasText: 'RSI reversal' });
    await expect(rsi.getByTestId('strategy-state').innerText()).resolves.toBe('Off');
    await rsi.getByRole('button', { name: /^Turn on RSI reversal/ }).click();
    await rsi.getByTestId('strategy-state').getByText('Trading').waitFor();
    await rsi.getByRole('button', { name: /^Turn off RSI reversal/ }).waitFor();
    expect((await fits()).scroll).toBe(0);
    expect(problems).toEqual([]);
  });

  it('turns the stream badge to "error" when the exchange is unreachable', async () => {
    const down = await createTestApp({
      UPSTREAMS: 'live',
      BINANCE_REST_URL: 'http://127.0.0.1:9',
      BINANCE_WS_URL: 'ws://127.0.0.1:9',
    });
    const downServer = await startTestServer(down);
    const { page } = await signedInPage(browser, down, downServer, { name: 'Offline' });
    await page.goto('/market');
    await page
      .getByRole('alert')
      .getByText(/exchange did not answer/)
      .waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="market-stream"][data-status="error"]').waitFor();
  }, 90_000);

  it('draws the candle chart and moves it when a new candle arrives live', async () => {
    const { page, problems } = await signedInPage(browser, app, server, { name: 'Chartist' });
    await page.goto('/market');
    await expectLive(page);
    const chart = page.getByTestId('market-chart');
    const current = Math.floor(fake.now / MIN) * MIN;
    // History from REST: the last closed candle is the one before the forming one.
    await chart.and(page.locator(`[data-last-candle-time="${current - MIN}"]`)).waitFor({ timeout: 15_000 });
    expect(await page.locator('.market-chart canvas').count()).toBeGreaterThan(0);
    await expect(page.getByTestId('market-strategies').getByText('RSI reversal').first().isVisible()).resolves.toBe(
      true,
    );

    await until(() => fake.subscriptions().includes('btcusdt@kline_1m'), 'the page to start the upstream stream');
    fake.advance(MIN);
    await chart.and(page.locator(`[data-last-candle-time="${current + MIN}"]`)).waitFor({ timeout: 10_000 });
    expect(problems).toEqual([]);
  });

  it("edits a strategy's RSI thresholds, and editing another field keeps them", async () => {
    const { page, account } = await signedInPage(browser, app, server, { name: 'Tuner' });
    await page.goto('/market');
    const strategies = page.getByTestId('market-strategies');
    // The chart's series (BTCUSDT 1m) is the first group.
    const firstRsi = strategies.locator('tbody.current').getByRole('row').filter({ hasText: 'RSI reversal' });
    await firstRsi.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Buy when RSI below').fill('25');
    await page.getByLabel('Sell when RSI above').fill('75');
    await page.getByRole('button', { name: 'Save' }).click();
    await firstRsi.getByText('RSI < 25 / > 75').waitFor();

    await firstRsi.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Take profit %').fill('4');
    await page.getByRole('button', { name: 'Save' }).click();
    await firstRsi.getByText('TP 4%').waitFor();
    const saved = (await account.caller.market.strategies.list()).items.find(
      (s) => s.name === 'RSI reversal' && s.timeframe === '1m',
    )!;
    expect(saved).toMatchObject({ takeProfitPct: 4, rule: { type: 'rsi', oversold: 25, overbought: 75 } });
  });
});
