import { expect, it } from 'vitest';
import { startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { marketTestApp } from '../helpers/market';

/** Words a person never needs to read: an input's key (camelCase) or a "key:" prefix. */
const INTERNAL = /\b[a-z]+[A-Z]\w*\b|^\w+:/m;

describeInBrowser('form errors in chromium', async () => {
  // The market fake keeps the chart quiet; the vault needs no upstream to refuse an interval.
  const { app } = await marketTestApp({ VAULT_AUTO_REFRESH_ENABLED: 'false' });
  const server = await startTestServer(app);
  const browser = await launchBrowser();
  // The first account is the admin (the vault page needs one).
  const { page, problems } = await signedInPage(browser, app, server, { name: 'Admin' });
  await page.setViewportSize({ width: 390, height: 844 });

  it('a refused strategy shows each message under its own field, in words, and keeps what was typed', async () => {
    await page.goto('/market');
    await expectLive(page);
    const strategies = page.getByTestId('market-strategies');
    await strategies.getByRole('button', { name: 'New' }).click();
    const form = strategies.locator('form');
    await form.getByLabel('Name').fill('Too keen');
    await form.getByLabel('Take profit %').fill('0');
    await form.getByLabel('Buy when RSI below').fill('80');
    await form.getByLabel('Sell when RSI above').fill('20');
    await form.getByRole('button', { name: 'Create' }).click();

    const takeProfit = form.locator('label', { has: page.getByLabel('Take profit %') });
    await takeProfit.getByText('Take profit must be above 0 %.').waitFor();
    await expect(page.getByLabel('Take profit %').getAttribute('aria-invalid')).resolves.toBe('true');
    const levels = form.locator('label', { has: page.getByLabel('Sell when RSI above') });
    await levels.getByText('The oversold level must be below the overbought level.').waitFor();
    // Only the refused fields carry a message; the form stays open with what was typed.
    const size = form.locator('label', { has: page.getByLabel('Size (USDT)') });
    expect(await size.locator('.error').count()).toBe(0);
    expect(await form.getByLabel('Name').inputValue()).toBe('Too keen');
    const messages = await form.locator('.error').allInnerTexts();
    expect(messages.length).toBeGreaterThanOrEqual(2);
    for (const m of messages) expect(m).not.toMatch(INTERNAL);
    // Said beside the fields, not again in a toast.
    expect(await page.locator('[data-sonner-toast]').count()).toBe(0);

    // Mended, it saves and the messages go.
    await form.getByLabel('Take profit %').fill('2');
    await form.getByLabel('Buy when RSI below').fill('30');
    await form.getByLabel('Sell when RSI above').fill('70');
    await form.getByRole('button', { name: 'Create' }).click();
    await strategies.getByRole('row').filter({ hasText: 'Too keen' }).waitFor();
    expect(await strategies.locator('form').count()).toBe(0);
  });

  it("the vault scheduler's interval says what is wrong under the field", async () => {
    await page.goto('/vault');
    await expectLive(page);
    const scheduler = page.getByTestId('vault-scheduler');
    await scheduler.getByLabel('Interval (minutes)').fill('0');
    await scheduler.getByRole('button', { name: 'Restart' }).click();
    const field = scheduler.locator('label', { has: page.getByLabel('Interval (minutes)') });
    await field.getByText('The interval must be at least 1 minute.').waitFor();
    expect(await field.locator('.error').innerText()).not.toMatch(INTERNAL);
    expect(problems).toEqual([]);
  });
});
