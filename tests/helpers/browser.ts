import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, describe, it } from 'vitest';
import type { App } from '../../server/app';
import { SESSION_COOKIE } from '../../server/modules/auth/cookies';
import type { RunningServer } from '../../server/http';
import { signUp } from './app';

/** Debian's chromium; never a downloaded browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * A browser test needs Debian's chromium. In CI (.ci/run installs it) its absence is a failure;
 * on a developer machine without it, browser tests are skipped with this reason.
 */
export const browserAvailable = existsSync(CHROMIUM_PATH) || process.env.CI === 'true';
export const noBrowserReason = `no browser at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;

/**
 * describe() for browser tests. Vitest runs a skipped describe's body to collect its tests, so
 * a suite that starts a server and a browser in its body must not be declared at all without one.
 */
export function describeInBrowser(name: string, body: () => void | Promise<void>) {
  if (browserAvailable) return describe(name, body);
  describe.skip(`${name} (skipped: ${noBrowserReason})`, () => {
    it('needs chromium', () => {});
  });
}

export async function launchBrowser(opts: { extraArgs?: string[] } = {}): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // The machine has no network beyond loopback: keep chromium from calling home.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(opts.extraArgs ?? []),
    ],
  });
  afterAll(() => browser.close());
  return browser;
}

/**
 * A page already signed in as a new user: the session is created directly, not by clicking
 * through sign-up. `url`: the page's origin when it is not the server's own (a proxy in front).
 */
export async function signedInPage(
  browser: Browser,
  app: App,
  server: RunningServer,
  opts: { name?: string; url?: string } = {},
) {
  const account = await signUp(app, { name: opts.name });
  const url = opts.url ?? server.url;
  const context = await browser.newContext({ baseURL: url });
  await context.addCookies([{ name: SESSION_COOKIE, value: account.token, url, httpOnly: true, sameSite: 'Lax' }]);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return { page, account, problems };
}

export async function expectLive(page: Page) {
  await page.locator('[data-testid="connection"][data-status="connected"]').waitFor({ timeout: 15_000 });
}
