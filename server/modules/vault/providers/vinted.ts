import { UpstreamError } from '../../../upstream/error';
import { applySetCookies, cookieHeader, parseCookieHeader } from './cookies';
import { jwtExpiry } from './jwt';
import { RefreshError, SecretsInputError, type Provider, type Secrets } from './types';

const REQUIRED = ['access_token_web', 'refresh_token_web', 'anon_id'] as const;
const HOW =
  'copy the whole Cookie header of a request to Vinted while signed in (browser developer tools → Network → any vinted request → Request Headers → Cookie)';
// The page may stream it JSON-escaped inside a script: \"CSRF_TOKEN\":\"…\".
const CSRF = /\\?"CSRF_TOKEN\\?"\s*:\s*\\?"([^"\\]+)\\?"/;

/** A Vinted web session kept alive the way the browser does it: home page for CSRF, then the refresh call. */
export function vintedProvider(opts: { webUrl: string; timeoutMs: number }): Provider {
  const origin = new URL(opts.webUrl).origin;

  async function call(url: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(opts.timeoutMs) });
    } catch {
      throw new RefreshError(
        'transient',
        `Vinted did not answer ${what} within ${opts.timeoutMs} ms: check VINTED_URL and the network; the scheduler retries.`,
      );
    }
  }

  return {
    name: 'vinted',

    parseSecrets(input) {
      const cookies = parseCookieHeader(input.cookie ?? '');
      const missing = REQUIRED.filter((name) => !cookies[name]);
      if (missing.length) throw new SecretsInputError(`The cookie has no ${missing.join(', ')}: ${HOW}.`);
      if (!jwtExpiry(cookies.access_token_web))
        throw new SecretsInputError(`access_token_web is not a Vinted token (no expiry inside): ${HOW}.`);
      return cookies;
    },

    expiresAt: (secrets) => jwtExpiry(secrets.access_token_web),

    needsRefresh: () => false,

    async refresh(secrets: Secrets) {
      const headers = { Accept: 'text/html', 'User-Agent': 'Mozilla/5.0 (Hubcast vault)' };
      const home = await call(
        `${opts.webUrl}/`,
        { headers: { ...headers, Cookie: cookieHeader(secrets) } },
        'the home page',
      );
      const html = await home.text().catch(() => '');
      if (home.status >= 500 || home.status === 429)
        throw new RefreshError(
          'transient',
          `Vinted's home page answered HTTP ${home.status}: the scheduler retries later.`,
        );
      let cookies = applySetCookies(secrets, home.headers.getSetCookie());
      const csrf = CSRF.exec(html)?.[1];
      if (!csrf)
        throw new RefreshError(
          'transient',
          `Vinted's home page (HTTP ${home.status}) carried no CSRF token: the page may have changed or bot protection answered; try again later.`,
        );

      const res = await call(
        `${opts.webUrl}/web/api/auth/refresh`,
        {
          method: 'POST',
          headers: {
            ...headers,
            Accept: 'application/json',
            Cookie: cookieHeader(cookies),
            'X-Csrf-Token': csrf,
            Origin: origin,
            Referer: `${origin}/`,
          },
        },
        'the token refresh',
      );
      await res.body?.cancel();
      if (res.status === 401) {
        throw new RefreshError(
          'revoked',
          `Vinted refused the refresh token (revoked, expired or already used): sign in to Vinted in a browser and paste a fresh cookie on the Vault page (${HOW}).`,
        );
      }
      if (res.status !== 200)
        throw new RefreshError(
          'transient',
          `Vinted's token refresh answered HTTP ${res.status}: the scheduler retries later.`,
        );
      cookies = applySetCookies(cookies, res.headers.getSetCookie());
      if (cookies.access_token_web === secrets.access_token_web || !jwtExpiry(cookies.access_token_web)) {
        throw new RefreshError('transient', 'Vinted answered the refresh without a new access token: try again later.');
      }
      return cookies;
    },

    isExpiredAnswer: (err) => err instanceof UpstreamError && err.status === 401,
  };
}
