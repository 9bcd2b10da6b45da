// The web app's shell for when the server cannot be reached: the page and its files are kept
// from the last visit, so a reload while offline still opens the app (and the chat outbox, whose
// pending messages are sent when the server answers again). Network first: online, every file is
// the server's current one and the cache only follows. The API, health and sign-in routes are
// never answered from here.
/* global self, caches, fetch, URL, Response */
const CACHE = 'hubcast-shell-v1';
const SKIP = /^\/(trpc|healthz|metrics|auth)(\/|$)/;

// The page's scripts and styles were loaded before this worker existed: read their names from
// the page itself so they are kept on the first visit too.
async function keepShell() {
  const cache = await caches.open(CACHE);
  const page = await fetch('/', { cache: 'no-store' });
  if (!page.ok) return;
  const html = await page.clone().text();
  await cache.put('/', page);
  const files = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  await cache.addAll(files);
}

self.addEventListener('install', (event) => {
  event.waitUntil(keepShell().catch(() => {}));
  self.skipWaiting();
});

self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || SKIP.test(url.pathname)) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && response.type === 'basic') {
          const copy = response.clone();
          // Every page of the app is the same index.html: kept once, under '/'.
          const key = request.mode === 'navigate' ? '/' : request;
          void caches.open(CACHE).then((cache) => cache.put(key, copy));
        }
        return response;
      })
      .catch(async () => {
        const cached = await caches.match(request.mode === 'navigate' ? '/' : request);
        return cached ?? Response.error();
      }),
  );
});
