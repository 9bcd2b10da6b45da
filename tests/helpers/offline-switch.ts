import type { BrowserContext, Page } from 'playwright-core';
import type { RunningServer } from '../../server/http';

/**
 * Takes a browser context offline, as for a user on a train. `context.setOffline(true)` fails new
 * requests (the service worker's too) and WebSocket handshakes but leaves an open WebSocket alone,
 * so the server cuts those (`dropConnections`, as a network failure would; other contexts simply
 * reconnect). A reload while offline is answered by the app's service worker (client/public/sw.js)
 * from what it kept: `shellKept` waits until it controls the page and holds the page's files.
 */
export function offlineSwitch(context: BrowserContext, server: RunningServer) {
  return {
    async shellKept(page: Page) {
      await page.waitForFunction(
        async () => {
          await navigator.serviceWorker.ready;
          const cache = await caches.open('hubcast-shell-v1');
          const scripts = [...document.querySelectorAll('script[src^="/assets/"]')].map((s) => s.getAttribute('src')!);
          const kept = await Promise.all(['/', ...scripts].map((u) => cache.match(u)));
          return navigator.serviceWorker.controller !== null && kept.every(Boolean);
        },
        undefined,
        { timeout: 15_000 },
      );
    },
    async goOffline() {
      await context.setOffline(true);
      server.dropConnections();
    },
    async goOnline() {
      await context.setOffline(false);
    },
  };
}
