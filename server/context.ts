import type { IncomingMessage } from 'node:http';
import type { App } from './app';
import type { Session } from './modules/auth/session';
import { readSessionCookie } from './modules/auth/cookies';
import { clientAddress } from './transport/address';
import { AnswerBudget } from './transport/answer-budget';
import type { SessionUser } from '../shared/auth';
import { retryWhileDatabaseUnavailable } from './db/unavailable';

export interface RequestInfo {
  transport: 'http' | 'ws' | 'internal';
  ip: string;
  /** False when a browser says the request came from another site (Origin / Sec-Fetch-Site). */
  originTrusted: boolean;
  /** Present on HTTP requests, where a response can still carry Set-Cookie. */
  setCookie?: (cookie: string) => void;
  /** Present on HTTP requests: the bytes its answer (a whole batch) may still take. */
  answerBudget?: AnswerBudget;
  /**
   * Present on HTTP subscriptions (server-sent events): takes the stream's slots of the caps
   * the WebSockets count against, or throws TOO_MANY_REQUESTS (transport/sse.ts).
   */
  holdStream?: (subscriber: string) => void;
}

export interface Context {
  app: App;
  user: SessionUser | null;
  session: Session | null;
  authVia: 'cookie' | 'bearer' | null;
  request: RequestInfo;
}

/** What tests call directly; the adapters below resolve the session first. */
export function createContextInner(opts: {
  app: App;
  user?: SessionUser | null;
  session?: Session | null;
  authVia?: Context['authVia'];
  request?: Partial<RequestInfo>;
}): Context {
  return {
    app: opts.app,
    user: opts.user ?? null,
    session: opts.session ?? null,
    authVia: opts.authVia ?? (opts.user ? 'bearer' : null),
    request: { transport: 'internal', ip: '127.0.0.1', originTrusted: true, ...opts.request },
  };
}

export function bearerToken(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7).trim() || null : null;
}

export function isTrustedOrigin(req: IncomingMessage, allowed: (origin: string) => boolean): boolean {
  const origin = req.headers.origin;
  // "null" is what sandboxed iframes, data: URLs and some redirects send: never our pages.
  if (origin === 'null') return false;
  if (origin) return allowed(origin);
  // Browsers that send Sec-Fetch-Site but no Origin (same-origin GETs) are still judged.
  const site = req.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

async function resolve(app: App, token: string | null, via: 'cookie' | 'bearer') {
  if (!token) return { user: null, session: null, authVia: null };
  const { user, session } = await app.auth.validate(token);
  return { user, session, authVia: user ? via : null };
}

export async function createHttpContext(
  app: App,
  req: IncomingMessage,
  setCookie: (c: string) => void,
  holdStream?: (subscriber: string) => void,
): Promise<Context> {
  const bearer = bearerToken(req);
  const auth = bearer ? await resolve(app, bearer, 'bearer') : await resolve(app, readSessionCookie(req), 'cookie');
  return createContextInner({
    app,
    ...auth,
    request: {
      transport: 'http',
      ip: clientAddress(req, app.config.TRUST_PROXY),
      originTrusted: isTrustedOrigin(req, app.http.isAllowedOrigin),
      setCookie,
      answerBudget: new AnswerBudget(app.config.HTTP_MAX_RESPONSE_BYTES),
      holdStream,
    },
  });
}

export async function createWsContext(
  app: App,
  req: IncomingMessage,
  connectionParams: Record<string, string | undefined> | null,
): Promise<Context> {
  const token = connectionParams?.token;
  // A page reconnecting right after a database outage waits for the database, rather than failing its calls.
  const auth = await retryWhileDatabaseUnavailable(() =>
    token ? resolve(app, token, 'bearer') : resolve(app, readSessionCookie(req), 'cookie'),
  );
  // The upgrade itself was refused for foreign origins, so whatever reaches here is trusted.
  return createContextInner({
    app,
    ...auth,
    request: { transport: 'ws', ip: clientAddress(req, app.config.TRUST_PROXY), originTrusted: true },
  });
}
