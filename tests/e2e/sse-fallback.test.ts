import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { startTestServer } from '../helpers/app';
import { describeInBrowser, expectLive, launchBrowser, signedInPage } from '../helpers/browser';
import { converse } from '../helpers/chat';
import { marketTestApp, until } from '../helpers/market';
import { noUpgradeProxy } from '../helpers/no-upgrade-proxy';

const MIN = 60_000;

const transportOf = (page: Page) => page.getByTestId('connection').getAttribute('data-transport');

// Issue 22: behind a proxy that strips `Upgrade` the app falls back to server-sent events by
// itself, says so, receives everything, and goes back to the WebSocket once it opens again.
describeInBrowser('the web app behind a proxy that refuses WebSockets', async () => {
  const { app, fake } = await marketTestApp();
  const server = await startTestServer(app);
  const proxy = await noUpgradeProxy({ port: server.port });
  // The pages' origin is the proxy's: their cookie-authenticated mutations come from there.
  app.http.allowOrigin(proxy.url);
  const browser = await launchBrowser();
  const viaProxy = (name: string) => signedInPage(browser, app, server, { name, url: proxy.url });

  it('chat: falls back to SSE, shows "SSE", and every message arrives, at phone width too', async () => {
    const ann = await viaProxy('Ann Proxy');
    const bob = await viaProxy('Bob Proxy');
    const conversationId = await converse(ann.account, bob.account);
    await bob.page.setViewportSize({ width: 390, height: 844 });
    for (const p of [ann.page, bob.page]) {
      await p.goto(`/chat?c=${conversationId}`);
      await p.locator('[data-testid="connection"][data-transport="sse"]').waitFor({ timeout: 20_000 });
      await expectLive(p);
      expect(await p.getByTestId('transport').innerText()).toBe('SSE');
    }
    expect(proxy.refused()).toBeGreaterThan(0);
    expect(await bob.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

    // Ann writes in her page; Bob's caller sends a burst: both pages get every message, once.
    await ann.page.getByLabel('Message').fill('Through the proxy');
    await ann.page.getByLabel('Message').press('Enter');
    await bob.page.getByTestId('chat-message').getByText('Through the proxy').waitFor();
    for (const n of [1, 2, 3]) await bob.account.caller.chat.send({ conversationId, content: `Burst ${n}` });
    for (const p of [ann.page, bob.page]) {
      await p.getByTestId('chat-message').getByText('Burst 3').waitFor();
      await expect.poll(() => p.getByTestId('chat-message').count()).toBe(4);
    }
    expect([...ann.problems, ...bob.problems]).toEqual([]);
  });

  it('market: a new candle arrives live over SSE', async () => {
    const { page, problems } = await viaProxy('Chart Proxy');
    await page.goto('/market');
    await page.locator('[data-testid="connection"][data-transport="sse"]').waitFor({ timeout: 20_000 });
    await expectLive(page);
    const chart = page.getByTestId('market-chart');
    const current = Math.floor(fake.now / MIN) * MIN;
    await chart.and(page.locator(`[data-last-candle-time="${current - MIN}"]`)).waitFor({ timeout: 15_000 });
    await until(() => fake.subscriptions().includes('btcusdt@kline_1m'), 'the page to start the upstream stream');
    fake.advance(MIN);
    await chart.and(page.locator(`[data-last-candle-time="${current + MIN}"]`)).waitFor({ timeout: 15_000 });
    expect(await transportOf(page)).toBe('sse');
    expect(problems).toEqual([]);
  });

  it('goes back to the WebSocket once the proxy lets it through, and the stream carries on', async () => {
    const ann = await viaProxy('Ann Back');
    const bob = await viaProxy('Bob Back');
    const conversationId = await converse(ann.account, bob.account);
    await ann.page.goto(`/chat?c=${conversationId}`);
    await ann.page.locator('[data-testid="connection"][data-transport="sse"]').waitFor({ timeout: 20_000 });
    await expectLive(ann.page);
    await bob.account.caller.chat.send({ conversationId, content: 'Before the fix' });
    await ann.page.getByTestId('chat-message').getByText('Before the fix').waitFor();

    // The proxy is fixed: the page's next try of the WebSocket (3 s, 6 s, 12 s … apart) opens it.
    proxy.allowUpgrades(true);
    try {
      await ann.page.locator('[data-testid="connection"][data-transport="ws"]').waitFor({ timeout: 60_000 });
      await expectLive(ann.page);
      expect(await ann.page.getByTestId('transport').innerText()).toBe('WS');
      await bob.account.caller.chat.send({ conversationId, content: 'After the fix' });
      await ann.page.getByTestId('chat-message').getByText('After the fix').waitFor();
      await expect.poll(() => ann.page.getByTestId('chat-message').count()).toBe(2);
    } finally {
      proxy.allowUpgrades(false);
    }
    expect(ann.problems).toEqual([]);
  }, 120_000);
});
