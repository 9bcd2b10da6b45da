import { expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { startFakes } from '../helpers/discovery';
import { waitFor } from '../helpers/wait';

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
      for (const address of minted)
        await page.locator(`[data-testid="token-card"][data-address="${address}"]`).waitFor({ timeout: 15_000 });
    }
    expect(await b.page.getByTestId('token-card').count()).toBe(3);
    // Each card links to the token on DexScreener and explains its verdict.
    const card = b.page.locator(`[data-testid="token-card"][data-address="${minted[0]}"]`);
    expect(await card.getByRole('link').getAttribute('href')).toBe(
      `https://dexscreener.com/${fakes.dex.tokens.at(-3)!.chain}/${minted[0]}`,
    );
    await card.getByTestId('risk-badge').click();
    const reasons = card.getByTestId('risk-reasons');
    await reasons.getByRole('listitem').first().waitFor();
    expect(await reasons.textContent()).toMatch(/Risk \d+\/100 \(0 = nothing found, 100 = avoid\)/);
    // The reasons open below the header: the token's name stays readable.
    const name = (await card.locator('header strong').boundingBox())!;
    const box = (await reasons.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(name.y + name.height);
    // The explanation is written from the rules the server scores with.
    await b.page.getByTestId('risk-help').locator('summary').click();
    const feeRule = b.page.locator('[data-testid="risk-rules"] tr[data-rule="transferFee"]');
    expect(await feeRule.textContent()).toBe('Transfer fee of 10% or more30yes');
    expect(a.problems).toEqual([]);
    expect(b.problems).toEqual([]);
  });

  it('an unchecked token reads "Unverified", icons come from the demo upstream (no failed request), a failed scan stays on the status panel', async () => {
    const { page, problems } = await signedInPage(browser, app, server, { name: 'Carol' });
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => void (r.status() >= 400 && failed.push(`${r.url()} ${r.status()}`)));
    page.on('console', (m) => void (m.type() === 'error' && failed.push(`console: ${m.text()}`)));
    await page.goto('/discovery');
    await expectLive(page);
    fakes.dex.configure({ latencyMs: 0 });
    const [broken] = fakes.dex.mint(2, 'ethereum');
    fakes.goplus.failAddress(broken!.address, 500);
    await page.getByTestId('discovery-scan-now').click();
    const card = page.locator(`[data-testid="token-card"][data-address="${broken!.address}"]`);
    await card.waitFor({ timeout: 15_000 });
    fakes.goplus.failAddress(broken!.address, null);
    const badge = card.getByTestId('risk-badge');
    expect(await badge.getAttribute('data-verdict')).toBe('unverified');
    expect(await badge.textContent()).toMatch(/^Unverified · \d+$/);
    expect(await badge.evaluate((el) => getComputedStyle(el).color)).not.toBe(
      await page
        .locator('.badge.good')
        .first()
        .evaluate((el) => getComputedStyle(el).color),
    );

    // Every icon loads from the fake DexScreener (never the real CDN), so no gaps and no errors.
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll<HTMLImageElement>('[data-testid="token-icon"]')].every(
          (i) => i.complete && i.naturalWidth > 0,
        ),
      undefined,
      { timeout: 10_000 },
    );
    const sources = await page
      .locator('[data-testid="token-icon"]')
      .evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).src));
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.every((src) => src.startsWith(fakes.dex.url))).toBe(true);

    // A press while the first scan is still held would join it instead of starting a new one.
    await waitFor(async () => !(await app.discovery.status()).scanning, { what: 'the first scan to end' });
    fakes.dex.failNext(503, 6, { path: '/token-' });
    await page.getByTestId('discovery-scan-now').click();
    await page.locator('[data-testid="last-scan"][data-outcome="failed"]').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('last-scan-error').textContent()).toMatch(/DexScreener error 503/);
    // The outcome is not a fading toast: a reload still shows it.
    await page.reload();
    await page.locator('[data-testid="last-scan"][data-outcome="failed"]').waitFor();
    expect(failed).toEqual([]);
    expect(problems).toEqual([]);
  });
});
