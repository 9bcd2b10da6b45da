import type { IncomingMessage, ServerResponse } from 'node:http';
import { Google, decodeIdToken, generateCodeVerifier, generateState } from 'arctic';
import type { App } from '../../app';
import { readCookie, sessionCookie } from './cookies';

const TEN_MINUTES = 600;

/** Google sign-in (OpenID Connect with PKCE through arctic); only mounted when configured. */
export function createGoogleRoutes(app: App, publicUrl: string) {
  const { GOOGLE_CLIENT_ID: id, GOOGLE_CLIENT_SECRET: secret, SESSION_COOKIE_SECURE: secure } = app.config;
  if (!id || !secret) return null;
  const google = new Google(id, secret, `${publicUrl}/auth/google/callback`);
  const flowCookie = (name: string, value: string) =>
    `${name}=${encodeURIComponent(value)}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${TEN_MINUTES}${secure ? '; Secure' : ''}`;
  const clearedFlowCookie = (name: string) =>
    `${name}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0${secure ? '; Secure' : ''}`;

  return async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (url.pathname === '/auth/google') {
      const state = generateState();
      const verifier = generateCodeVerifier();
      const target = google.createAuthorizationURL(state, verifier, ['openid', 'profile', 'email']);
      res.setHeader('Set-Cookie', [
        flowCookie('google_oauth_state', state),
        flowCookie('google_code_verifier', verifier),
      ]);
      res.writeHead(302, { Location: target.toString() }).end();
      return true;
    }
    if (url.pathname !== '/auth/google/callback') return false;
    // One use only, whatever the outcome: a leftover state or verifier must not be replayed.
    res.setHeader('Set-Cookie', [clearedFlowCookie('google_oauth_state'), clearedFlowCookie('google_code_verifier')]);
    const code = url.searchParams.get('code');
    const state = url.searchParams.get('state');
    const verifier = readCookie(req, 'google_code_verifier');
    if (!code || !state || state !== readCookie(req, 'google_oauth_state') || !verifier) {
      res
        .writeHead(400, { 'Content-Type': 'text/plain' })
        .end('Google sign-in expired or was tampered with: start again from the sign-in page.');
      return true;
    }
    try {
      const tokens = await google.validateAuthorizationCode(code, verifier);
      const claims = decodeIdToken(tokens.idToken()) as {
        sub: string;
        email?: string;
        email_verified?: boolean;
        name?: string;
      };
      if (!claims.email || claims.email_verified !== true) {
        res.writeHead(400, { 'Content-Type': 'text/plain' }).end('Your Google account has no verified e-mail address.');
        return true;
      }
      const signedIn = await app.auth.signInWithGoogle({
        googleId: claims.sub,
        email: claims.email,
        name: claims.name ?? claims.email,
        emailVerified: true,
      });
      res.appendHeader('Set-Cookie', sessionCookie(signedIn.token, signedIn.session.expiresAt, secure));
      res.writeHead(302, { Location: '/' }).end();
    } catch (err) {
      app.log.warn({ err }, 'google sign-in failed');
      res.writeHead(502, { 'Content-Type': 'text/plain' }).end('Google sign-in failed: try again in a moment.');
    }
    return true;
  };
}
