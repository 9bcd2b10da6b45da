import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeUpstream } from './index';
import { applyFault, FailureQueue, hashOf, seededRandom, sendJson, serveLoopback, type Fault } from './serve';

export interface FakeVintedOptions {
  /** Access tokens live this long (the real site: about two hours). */
  accessLifetimeSeconds?: number;
  refreshLifetimeSeconds?: number;
  /** The fake's clock in ms; tests share one with the app to run minutes in seconds. */
  now?: () => number;
  /** Serve the CSRF token JSON-escaped, as in a streamed page chunk. */
  escapedCsrf?: boolean;
}

export interface FakeVinted extends FakeUpstream {
  webUrl: string;
  apiUrl: string;
  /** The Cookie header of a freshly signed-in browser, as an admin would paste it. */
  signIn(opts?: { accessLifetimeSeconds?: number }): string;
  /** Every token handed out so far stops working (a password change, a ban). */
  revokeAll(): void;
  /** Access tokens expire now; refresh tokens keep working. */
  expireAccessTokens(): void;
  /** The next `count` requests (optionally only under `path`) answer `status`. */
  failNext(status: number, count?: number, opts?: { path?: string }): void;
  /** Every request fails with 503 until restore(). */
  outage(): void;
  restore(): void;
  /** Every request to `host` (both when absent) misbehaves this way until `fault(null)`. */
  fault(f: Fault | null, host?: 'web' | 'api'): void;
  counters: {
    homePages: number;
    refreshes: number;
    refreshRejected: number;
    catalogue: number;
    catalogueUnauthorized: number;
  };
}

interface Issued {
  exp: number;
  revoked: boolean;
  used?: boolean;
}

const BRANDS = ['Levi’s', 'Nike', 'Zara', 'Adidas', 'H&M', 'Carhartt', 'Patagonia', 'Uniqlo'];
const SIZES = ['XS', 'S', 'M', 'L', 'XL', '38', '40', '42'];
const expired = { code: 100, message: 'Token has expired or is invalid', message_code: 'invalid_authentication_token' };

/**
 * Vinted's web session and catalogue as UPSTREAMS.md describes them, on two loopback hosts
 * (web and API). Tokens are JWTs with a short `exp`; refresh tokens rotate and a used one
 * answers 401, so a double refresh shows up exactly as it would on the real site.
 */
export async function startFakeVinted(opts: FakeVintedOptions = {}): Promise<FakeVinted> {
  const now = opts.now ?? Date.now;
  const accessLife = opts.accessLifetimeSeconds ?? 2 * 3600;
  const refreshLife = opts.refreshLifetimeSeconds ?? 7 * 86_400;
  const signingKey = randomBytes(32);
  const access = new Map<string, Issued>();
  const refresh = new Map<string, Issued>();
  const csrf = new Set<string>();
  const failures = new FailureQueue();
  const counters = { homePages: 0, refreshes: 0, refreshRejected: 0, catalogue: 0, catalogueUnauthorized: 0 };
  let down = false;
  const faults: Record<'web' | 'api', Fault | null> = { web: null, api: null };
  let webUrl = '';

  const jwt = (purpose: 'access' | 'refresh', lifetime: number) => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const exp = Math.floor(now() / 1000) + lifetime;
    const body = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ purpose, exp, sub: 4242, jti: randomBytes(8).toString('hex') })}`;
    return { token: `${body}.${createHmac('sha256', signingKey).update(body).digest('base64url')}`, exp: exp * 1000 };
  };
  const issuePair = (lifetime = accessLife) => {
    const a = jwt('access', lifetime);
    const r = jwt('refresh', refreshLife);
    access.set(a.token, { exp: a.exp, revoked: false });
    refresh.set(r.token, { exp: r.exp, revoked: false });
    return { access: a.token, refresh: r.token };
  };
  const valid = (map: Map<string, Issued>, token: string | undefined) => {
    const t = token ? map.get(token) : undefined;
    return t && !t.revoked && !t.used && t.exp > now() ? t : undefined;
  };
  const setCookies = (pair: { access: string; refresh: string }) => [
    `access_token_web=${pair.access}; Path=/; Secure; HttpOnly; SameSite=Lax`,
    `refresh_token_web=${pair.refresh}; Path=/; Secure; HttpOnly; SameSite=Lax`,
  ];
  const cookiesOf = (req: IncomingMessage) =>
    Object.fromEntries(
      (req.headers.cookie ?? '')
        .split(';')
        .map((p) => p.trim().split('=') as [string, string])
        .filter(([k, v]) => k && v !== undefined),
    );
  const gate = (res: ServerResponse, path: string) => {
    if (down) return (sendJson(res, 503, { code: 503, message: 'Service unavailable' }), true);
    const fail = failures.take(path);
    if (fail) return (sendJson(res, fail.status, { code: fail.status, message: 'injected failure' }), true);
    return false;
  };

  const web = await serveLoopback(async (req, res, url) => {
    if (gate(res, url.pathname) || (await applyFault(faults.web, res))) return;
    const cookies = cookiesOf(req);
    if (req.method === 'GET' && url.pathname === '/') {
      counters.homePages++;
      const token = randomBytes(18).toString('hex');
      csrf.add(token);
      const headers: Record<string, string | string[]> = { 'Content-Type': 'text/html; charset=utf-8' };
      // A visitor without a session gets an anonymous one, as the real home page does.
      if (!cookies.access_token_web)
        headers['Set-Cookie'] = [
          `access_token_web=${jwt('access', accessLife).token}; Path=/`,
          `anon_id=${randomBytes(8).toString('hex')}; Path=/`,
        ];
      const script = opts.escapedCsrf
        ? `self.__next_f.push([1,"{\\"CSRF_TOKEN\\":\\"${token}\\"}"])`
        : `window.__CONFIG__ = {"CSRF_TOKEN":"${token}","locale":"fr"};`;
      res
        .writeHead(200, headers)
        .end(`<!doctype html><html><head><title>Vinted</title></head><body><script>${script}</script></body></html>`);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/web/api/auth/refresh') {
      const origin = new URL(webUrl).origin;
      if (req.headers.origin !== origin || !String(req.headers.referer ?? '').startsWith(origin))
        return sendJson(res, 403, { code: 106, message: 'Forbidden' });
      const csrfToken = String(req.headers['x-csrf-token'] ?? '');
      if (!csrf.delete(csrfToken)) return sendJson(res, 403, { code: 106, message: 'Invalid CSRF token' });
      const current = valid(refresh, cookies.refresh_token_web);
      if (!current) {
        counters.refreshRejected++;
        return sendJson(res, 401, {
          code: 100,
          message: 'Refresh token is invalid',
          message_code: 'invalid_authentication_token',
        });
      }
      // Rotation: the refresh token just used stops working.
      current.used = true;
      counters.refreshes++;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Set-Cookie': setCookies(issuePair()) }).end('{}');
      return;
    }
    sendJson(res, 404, { code: 104, message: 'Not found', message_code: 'not_found' });
  });

  const api = await serveLoopback(async (req, res, url) => {
    if (gate(res, url.pathname) || (await applyFault(faults.api, res))) return;
    if (url.pathname === '/api/v2/catalog/items')
      return sendJson(res, 404, { code: 104, message: 'Not found', message_code: 'not_found' });
    if (req.method !== 'GET' || url.pathname !== '/svc-catalogue/items')
      return sendJson(res, 404, { code: 104, message: 'Not found', message_code: 'not_found' });
    counters.catalogue++;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!valid(access, bearer) || !req.headers['x-anon-id']) {
      counters.catalogueUnauthorized++;
      return sendJson(res, 401, expired);
    }
    const query = (url.searchParams.get('search_text') ?? '').trim().toLowerCase();
    const perPage = Math.min(96, Math.max(1, Number(url.searchParams.get('per_page') ?? 24) || 24));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const total = query ? 40 + (hashOf(query) % 200) : 0;
    const items = [];
    for (let i = (page - 1) * perPage; i < Math.min(total, page * perPage); i++) items.push(item(query, i));
    sendJson(res, 200, {
      items,
      pagination: {
        current_page: page,
        total_pages: Math.ceil(total / perPage),
        total_entries: total,
        per_page: perPage,
      },
    });
  });
  webUrl = web.url;

  return {
    webUrl: web.url,
    apiUrl: api.url,
    env: { VINTED_URL: web.url, VINTED_API_URL: api.url },
    counters,
    signIn(o = {}) {
      const pair = issuePair(o.accessLifetimeSeconds);
      return `anon_id=${randomBytes(8).toString('hex')}; v_udt=${randomBytes(6).toString('hex')}; access_token_web=${pair.access}; refresh_token_web=${pair.refresh}; _vinted_fr_session=${randomBytes(12).toString('hex')}`;
    },
    revokeAll() {
      for (const t of [...access.values(), ...refresh.values()]) t.revoked = true;
    },
    expireAccessTokens() {
      for (const t of access.values()) t.exp = Math.min(t.exp, now());
    },
    failNext: (status, count, o) => failures.add(status, count, o),
    outage: () => void (down = true),
    restore: () => void (down = false),
    fault(f, host) {
      if (host !== 'api') faults.web = f;
      if (host !== 'web') faults.api = f;
    },
    async close() {
      await Promise.all([web.close(), api.close()]);
    },
  };
}

/** A query's catalogue is fixed by its text, so a test can compute the expected figures itself. */
export function item(query: string, index: number) {
  const rand = seededRandom(hashOf(`${query}#${index}`));
  const amount = (5 + Math.round(rand() * 9500) / 100).toFixed(2);
  const id = 100_000 + (hashOf(query) % 10_000) * 1000 + index;
  return {
    id,
    title: `${query} ${BRANDS[index % BRANDS.length]} #${index + 1}`,
    price: { amount, currency_code: 'EUR' },
    total_item_price: { amount: (Number(amount) + 0.7 + Number(amount) * 0.05).toFixed(2), currency_code: 'EUR' },
    brand_title: BRANDS[index % BRANDS.length],
    size_title: SIZES[Math.floor(rand() * SIZES.length)],
    status: 'Très bon état',
    url: `https://www.vinted.fr/items/${id}`,
    photo: null,
    user: { id: 1000 + (index % 37), login: `seller${index % 37}` },
  };
}
