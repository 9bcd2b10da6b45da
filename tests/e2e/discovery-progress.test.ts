import { expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { startFakes } from '../helpers/discovery';
import { waitFor } from '../helpers/wait';

describeInBrowser('discovery scan progress in chromium', async () => {
  const fakes = await startFakes({ dex: { newPerCall: 0 } });
  // A held look-up must outlast the test's look at the page, not time out and be retried.
  const app = await createTestApp({ ...fakes.env, UPSTREAM_TIMEOUT_MS: '60000' });
  const server = await startTestServer(app);
  const browser = await launchBrowser();

  it('counts along while a scan runs; its starter sees "Scanning…", others "Join scan" until they join', async () => {
    const alice = await signedInPage(browser, app, server, { name: 'Alice' });
    const bob = await signedInPage(browser, app, server, { name: 'Bob' });
    for (const { page } of [alice, bob]) {
      await page.goto('/discovery');
      await expectLive(page);
      await page.getByTestId('discovery-empty').waitFor();
    }
    // Unkeyed GoPlus checks one address per call and the scan stores five at a time: after the
    // first five the scan is held part-way, one batch stored, one still to check.
    fakes.dex.mint(6, 'solana');
    const hold = fakes.goplus.holdAfter(5);
    await alice.page.getByTestId('discovery-scan-now').click();
    await waitFor(() => hold.held() > 0, { what: 'the scan to be held after its first batch' });
    const mid = await app.discovery.stats();
    expect(mid.databaseUsage).toBe(5);

    const status = (page: typeof alice.page) => page.getByTestId('discovery-status');
    for (const { page } of [alice, bob]) {
      await page.getByTestId('discovery-progress').getByText('Scanning: 5 of 6 checked, 5 new').waitFor();
      await status(page).getByText('5 / 200').waitFor();
      await status(page)
        .getByText(`${mid.safeTokens} / ${mid.riskyTokens} / ${mid.unverifiedTokens}`, { exact: true })
        .waitFor();
    }
    const aliceButton = alice.page.getByTestId('discovery-scan-now');
    const bobButton = bob.page.getByTestId('discovery-scan-now');
    expect(await aliceButton.textContent()).toBe('Scanning…');
    expect(await aliceButton.isDisabled()).toBe(true);
    expect(await bobButton.textContent()).toBe('Join scan');
    await bobButton.click();
    await bob.page.getByText(/Joined the scan already running/).waitFor();
    expect(await bobButton.textContent()).toBe('Scanning…');
    expect(await bobButton.isDisabled()).toBe(true);

    hold.release();
    for (const { page } of [alice, bob]) {
      await page.getByTestId('discovery-scan-now').getByText('Scan now').waitFor({ timeout: 15_000 });
      await status(page).getByText('6 / 200').waitFor();
    }
    expect(await aliceButton.isDisabled()).toBe(false);
    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  });
});
