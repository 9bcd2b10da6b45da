import { describe, expect, it } from 'vitest';
import { createTestApp, startTestServer } from '../helpers/app';
import { browserAvailable, expectLive, launchBrowser, noBrowserReason, signedInPage } from '../helpers/browser';
import { startVinted } from '../helpers/vault';
import { RECENT_SUCCESS_MS } from '../../server/modules/vault/refresh';

describe.skipIf(!browserAvailable)(
  `vault page in chromium${browserAvailable ? '' : ` (skipped: ${noBrowserReason})`}`,
  async () => {
    const vinted = await startVinted({ accessLifetimeSeconds: 3600 });
    // The app's clock runs `skew` ms ahead: a test steps past the seconds in which another
    // "Refresh now" is answered with the last success (refresh.ts) without waiting them out.
    let skew = 0;
    const app = await createTestApp(
      { ...vinted.env, VAULT_AUTO_REFRESH_ENABLED: 'false' },
      { now: () => Date.now() + skew },
    );
    const server = await startTestServer(app);
    const browser = await launchBrowser();

    it('an admin pastes a cookie, sees it active with a countdown, refreshes it and sees the new expiry; works at 390 px', async () => {
      // The first account is the admin.
      const { page, problems } = await signedInPage(browser, app, server, { name: 'Admin' });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto('/vault');
      await expectLive(page);
      await page.getByText('No session yet').waitFor();

      await page.getByTestId('vault-cookie').fill(vinted.signIn({ accessLifetimeSeconds: 600 }));
      await page.getByTestId('vault-save').click();
      const card = page.locator('[data-testid="vault-session"][data-label="default"]');
      await card.and(page.locator('[data-status="active"]')).waitFor();
      // The pasted cookie is not kept on the page.
      expect(await page.getByTestId('vault-cookie').inputValue()).toBe('');
      const expiry = card.getByTestId('vault-expiry');
      const first = await expiry.getAttribute('data-expires-at');
      const text = await expiry.textContent();
      expect(text).toMatch(/^expires in (9|10)m \d\ds$/);
      // The countdown is live: it changes without a reload.
      await expect.poll(() => expiry.textContent(), { timeout: 5_000 }).not.toBe(text);

      await card.getByTestId('vault-refresh').click();
      await expect.poll(() => expiry.getAttribute('data-expires-at'), { timeout: 10_000 }).not.toBe(first);
      const second = new Date((await expiry.getAttribute('data-expires-at'))!).getTime();
      expect(second - new Date(first!).getTime()).toBeGreaterThan(40 * 60_000);
      await page.getByTestId('vault-attempts').locator('li[data-outcome="success"]').first().waitFor();

      await page.getByTestId('vault-analyze-query').fill('jean levis');
      await page.getByTestId('vault-analyze').click();
      await page.getByTestId('vault-histogram').waitFor();
      expect(Number(await page.getByTestId('vault-analysis-result').getAttribute('data-count'))).toBeGreaterThan(0);

      // Revoked upstream: the refresh fails and the card says why.
      vinted.revokeAll();
      skew += RECENT_SUCCESS_MS;
      await card.getByTestId('vault-refresh').click();
      await card.and(page.locator('[data-status="error"]')).waitFor();
      expect(await card.getByTestId('vault-last-error').textContent()).toMatch(/paste a fresh cookie/);

      // Nothing is wider than a 390 px phone screen.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      expect(problems).toEqual([]);
    });
  },
);
