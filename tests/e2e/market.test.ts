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

  it('keeps the symbol and timeframe in the address: a reload or a shared link opens the same chart, a bad value the default', async () => {
    const { page, problems } = await signedInPage(browser, app, server, { name: 'Linker' });
    const quote = page.locator('.market-quote strong');
    const tab = (tf: string) => page.getByRole('tab', { name: tf, exact: true });
    const address = () => new URL(page.url()).search;
    const lastClosed = (tfMs: number) => Math.floor(fake.now / tfMs) * tfMs - tfMs;
    const chartAt = (t: number) => page.getByTestId('market-chart').and(page.locator(`[data-last-candle-time="${t}"]`));

    // A shared link: that symbol's 5m chart.
    await page.goto('/market?s=ETHUSDT&tf=5m');
    await chartAt(lastClosed(5 * MIN)).waitFor({ timeout: 15_000 });
    expect(await quote.innerText()).toBe('ETHUSDT');
    expect(await tab('5m').getAttribute('aria-selected')).toBe('true');

    // Switching writes the address in place (no history entry per click, as on TradingView).
    const entries = await page.evaluate(() => history.length);
    await tab('15m').click();
    await page.waitForURL((u) => u.search === '?s=ETHUSDT&tf=15m');
    await page.getByLabel('Symbol').fill('solusdt');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL((u) => u.search === '?s=SOLUSDT&tf=15m');
    expect(await page.evaluate(() => history.length)).toBe(entries);

    await page.reload();
    await chartAt(lastClosed(15 * MIN)).waitFor({ timeout: 15_000 });
    expect(await quote.innerText()).toBe('SOLUSDT');
    expect(await tab('15m').getAttribute('aria-selected')).toBe('true');
    expect(await page.getByLabel('Symbol').inputValue()).toBe('SOLUSDT');

    // Values the page cannot show open the default chart, and the address says so.
    await page.goto('/market?s=no!&tf=7m');
    await page.waitForURL((u) => u.search === '?s=BTCUSDT&tf=1m');
    expect(await quote.innerText()).toBe('BTCUSDT');
    await page.goto('/market?s=NOPEUSDT&tf=1h');
    await page.getByText('Binance does not list NOPEUSDT').waitFor();
    await page.waitForURL((u) => u.search === '?s=BTCUSDT&tf=1h');
    await chartAt(lastClosed(60 * MIN)).waitFor({ timeout: 15_000 });
    expect(address()).toBe('?s=BTCUSDT&tf=1h');
    expect(problems).toEqual([]);
  });

  it('brings the strategy form into view with its first field focused, from "New" at the fold and from an "Edit" far down the list', async () => {
    const { page, problems } = await signedInPage(browser, app, server, { name: 'Former' });
    await page.goto('/market');
    const strategies = page.getByTestId('market-strategies');
    await strategies.locator('tbody').first().waitFor();
    const name = page.getByLabel('Name', { exact: true });
    // Focused, and wholly on screen below the sticky top bar.
    const ready = () =>
      name.evaluate((input) => {
        const r = input.getBoundingClientRect();
        const bar = document.querySelector('.topbar')!.getBoundingClientRect().bottom;
        return input === document.activeElement && r.top >= bar && r.bottom <= window.innerHeight;
      });

    // "New" at the very bottom of the window: the form opens below it, under the fold.
    const create = strategies.getByRole('button', { name: 'New' });
    await create.evaluate((b) => window.scrollBy(0, b.getBoundingClientRect().bottom - window.innerHeight));
    await create.click();
    await page.getByRole('form', { name: 'New strategy' }).waitFor();
    await expect.poll(ready).toBe(true);
    await page.getByRole('button', { name: 'Cancel' }).click();

    // The last row's "Edit": the form opens at the top of the card, far above it.
    const edit = strategies.getByRole('button', { name: 'Edit' }).last();
    await edit.scrollIntoViewIfNeeded();
    await edit.click();
    await page.getByRole('form', { name: 'Edit strategy' }).waitFor();
    await expect.poll(ready).toBe(true);
    expect(problems).toEqual([]);
  });

  it('draws volume bars under the candles and RSI and MACD in panes of their own, from the same history', async () => {
    const { page, account, problems } = await signedInPage(browser, app, server, { name: 'Analyst' });
    await page.goto('/market?s=ETHUSDT&tf=1m');
    const chart = page.getByTestId('market-chart');
    await chart.and(page.locator('[data-panes="3"]')).waitFor({ timeout: 15_000 });
    // Every series holds a point for each candle whose indicator is known (none is dropped).
    const { candles } = await account.caller.market.candles({ symbol: 'ETHUSDT', timeframe: '1m', limit: 300 });
    const count = (pick: (c: (typeof candles)[number]) => unknown) => candles.filter((c) => pick(c) != null).length;
    const expected = [
      `candles:${candles.length}`,
      `SMA 20:${count((c) => c.indicators.sma20)}`,
      `EMA 9:${count((c) => c.indicators.ema9)}`,
      `EMA 21:${count((c) => c.indicators.ema21)}`,
      `BB upper:${count((c) => c.indicators.bollinger)}`,
      `BB lower:${count((c) => c.indicators.bollinger)}`,
      `RSI 14:${count((c) => c.indicators.rsi14)}`,
      `MACD:${count((c) => c.indicators.macd)}`,
      `Signal:${count((c) => c.indicators.macd)}`,
      `Volume:${candles.length}`,
      `MACD histogram:${count((c) => c.indicators.macd)}`,
    ].join(',');
    await chart.and(page.locator(`[data-points="${expected}"]`)).waitFor();
    expect(count((c) => c.indicators.rsi14)).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it("shows prices to the symbol's tick size, on the chart's scale and in the quote", async () => {
    const { page, problems } = await signedInPage(browser, app, server, { name: 'Ticker' });
    const quote = page.getByTestId('market-price');
    // The fake lists DOGEUSDT with a 0.00001 tick, BTCUSDT with 0.01 (its prices carry more digits).
    await page.goto('/market?s=DOGEUSDT&tf=1m');
    await page.getByTestId('market-chart').and(page.locator('[data-tick-size="0.00001"]')).waitFor();
    await expect.poll(() => quote.innerText()).toMatch(/^\d+\.\d{5}$/);
    await page.goto('/market?s=BTCUSDT&tf=1m');
    await page.getByTestId('market-chart').and(page.locator('[data-tick-size="0.01"]')).waitFor();
    await expect.poll(() => quote.innerText()).toMatch(/^\d+\.\d{2}$/);
    expect(problems).toEqual([]);
  });
});
