import { expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { startFakes } from '../helpers/discovery';

describeInBrowser('discovery page in chromium', async () => {
  const fakes = await startFakes({ dex: { newPerCall: 0 } });
  const app = await createTestApp(fakes.env);
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  it('one page presses "Scan now"; both grids show the new tokens without a reload', async () => {
    const a = await signedInPage(browser, app, server, { name: 'Alice' });
    const b = await signedInPage(browser, app, server, { name: 'Bob' });
    for (const { page } of [a, b]) {
      await page.goto('/discovery');
      await expectLive(page);
      await page.getByTestId('discovery-empty').waitFor();
    }
    // Keep the scan in flight long enough for both pages to show its progress.
    fakes.dex.configure({ latencyMs: 300 });
    const minted = fakes.dex.mint(3).map((t) => t.address);
    await a.page.getByTestId('discovery-scan-now').click();
    await b.page.getByTestId('discovery-progress').waitFor({ timeout: 10_000 });

    for (const { page } of [a, b]) {
      for (const address of minted) await page.locator(`[data-testid="token-card"][data-address="${address}"]`).waitFor({ timeout: 15_000 });
    }
    expect(await b.page.getByTestId('token-card').count()).toBe(3);
    // Each card links to the token on DexScreener and explains its verdict.
    const card = b.page.locator(`[data-testid="token-card"][data-address="${minted[0]}"]`);
    expect(await card.getByRole('link').getAttribute('href')).toBe(`https://dexscreener.com/${fakes.dex.tokens.at(-3)!.chain}/${minted[0]}`);
    await card.getByTestId('risk-badge').click();
    await card.getByRole('listitem').first().waitFor();
    expect(a.problems).toEqual([]);
    expect(b.problems).toEqual([]);
  });
});
