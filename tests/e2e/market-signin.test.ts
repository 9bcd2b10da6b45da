import { expect, it } from 'vitest';
import { signUp, startTestServer } from '../helpers/app';
import { describeInBrowser, launchBrowser } from '../helpers/browser';
import { marketTestApp, until } from '../helpers/market';

const MIN = 60_000;
const TRIES = 20;

describeInBrowser('market right after sign-in', async () => {
  const { app, fake } = await marketTestApp();
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  // The sign-in procedure allows 20 attempts a minute from one address: exactly one per try.
  it(`shows live candles when Market is opened at once after signing in (${TRIES} tries, each a fresh browser context)`, async () => {
    const accounts = await Promise.all(Array.from({ length: TRIES }, (_, i) => signUp(app, { name: `Quick ${i}` })));
    // Someone's enabled strategy keeps BTCUSDT 1m flowing between tries, as in production.
    await accounts[0]!.caller.market.strategies.create({
      name: 'Keeper',
      symbol: 'BTCUSDT',
      timeframe: '1m',
      rule: { type: 'ema_cross' },
      positionSize: 100,
      takeProfitPct: 1,
      stopLossPct: 1,
      enabled: true,
    });
    await until(() => fake.subscriptions().includes('btcusdt@kline_1m'), 'the upstream subscription');

    const failures: string[] = [];
    for (const [i, account] of accounts.entries()) {
      const context = await browser.newContext({ baseURL: server.url });
      try {
        const page = await context.newPage();
        const problems: string[] = [];
        page.on('pageerror', (err) => problems.push(err.message));
        await page.goto('/');
        await page.locator('#field-email').fill(account.user.email);
        await page.locator('#field-password').fill('correct horse battery');
        await page.getByRole('button', { name: 'Sign in' }).click();
        // At once: the link appears the moment the app knows the user, while the socket reconnects.
        await page.getByRole('link', { name: 'Market', exact: true }).click();
        const chart = page.getByTestId('market-chart');
        await chart.waitFor({ timeout: 15_000 });
        // A live candle must reach the chart: a new minute on the exchange moves it.
        const next = Math.floor(fake.now / MIN) * MIN + MIN;
        fake.advance(MIN);
        const moved = await page
          .locator(`[data-testid="market-chart"][data-last-candle-time="${next}"]`)
          .waitFor({ timeout: 10_000 })
          .then(
            () => true,
            () => false,
          );
        const badge = await page.getByTestId('market-stream').getAttribute('data-status');
        if (!moved || badge !== 'live' || problems.length)
          failures.push(
            `try ${i + 1}: chart ${moved ? 'moved' : 'frozen'}, badge ${badge}${problems.length ? `, ${problems.join('; ')}` : ''}`,
          );
      } finally {
        await context.close();
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);
});
