import { TRPCError, initTRPC } from '@trpc/server';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import superjson from 'superjson';
import { ZodError, z } from 'zod';
import type { Context } from './context';
import type { SessionWatch } from './realtime/guard';
import { GENERIC_ERROR_MESSAGE, requestIdOf, toTRPCError, withTRPCErrors } from './errors';
import { guardSubscription } from './realtime/guard';
import { decodeInput } from './transport/decode';
import { retryWhileDatabaseUnavailable } from './db/unavailable';
import { take } from './cluster/take';
import { subscriberKey } from './transport/caps';
import { installReadableZodDefaults } from './zod-words';

installReadableZodDefaults();

const SSE_PING_MS = 20_000;

const t = initTRPC.context<Context>().create({
  // Subscriptions over HTTP are server-sent events (httpSubscriptionLink). A comment every 20 s,
  // as the WebSocket pings, keeps proxies from closing a quiet stream; a client that hears
  // nothing for 45 s takes its connection for dead and reconnects with its Last-Event-ID.
  sse: {
    ping: { enabled: true, intervalMs: SSE_PING_MS },
    client: { reconnectAfterInactivityMs: SSE_PING_MS * 2 + 5_000 },
  },
  // Client input is checked before superjson sees it; what we send stays plain superjson.
  transformer: { input: { serialize: superjson.serialize, deserialize: decodeInput }, output: superjson },
  errorFormatter({ shape, error }) {
    const zodError = error.cause instanceof ZodError ? error.cause : null;
    const internal = error.code === 'INTERNAL_SERVER_ERROR';
    return {
      ...shape,
      message: clientMessage(error, zodError, shape.message),
      // Stacks stay in the server log (INTERNAL_SERVER_ERROR only), never in responses.
      data: {
        ...shape.data,
        stack: undefined,
        zodError: zodError ? z.flattenError(zodError) : null,
        requestId: internal ? requestIdOf(error) : null,
      },
    };
  },
});

function clientMessage(error: TRPCError, zodError: ZodError | null, fallback: string): string {
  // tRPC's default message for bad input is the raw issue list; people need a sentence.
  if (zodError) return readableZodMessage(zodError);
  // An unexpected error's text may quote SQL and its parameters: the client gets a generic
  // sentence and an id to quote; the details go to the log under the same id (http.ts).
  if (error.code === 'INTERNAL_SERVER_ERROR') return GENERIC_ERROR_MESSAGE;
  // tRPC's own text for a body past HTTP_MAX_BODY_BYTES is just the code.
  if (error.code === 'PAYLOAD_TOO_LARGE' && error.message === error.code)
    return 'Request too large: send less at once.';
  return fallback;
}

/** Each message names its field in words (shared/ schemas, zod-words.ts), so no key is put in front. */
function readableZodMessage(err: ZodError): string {
  return [...new Set(err.issues.map((i) => i.message))].join(' ');
}

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Every procedure: a WebSocket's session was read once, when it connected, so each call on
 * it checks the session is still there (signed out elsewhere → treated as signed out). Then
 * every subscription is wrapped once: counted per path and, when authed, ended with its session.
 */
const observed = t.procedure
  .use(async ({ next }) => {
    // The one place a service's AppError becomes the TRPCError the client sees.
    const result = await next();
    if (!result.ok) throw toTRPCError(result.error);
    return result;
  })
  .use(async ({ type, ctx, next }) => {
    // An HTTP answer is bounded as a whole (transport/answer-budget.ts); an SSE stream per write (transport/sse.ts).
    const budget = type === 'subscription' ? undefined : ctx.request.answerBudget;
    budget?.check();
    const result = await next();
    if (result.ok) budget?.spend(result.data);
    return result;
  })
  .use(async ({ type, path, ctx, signal, next }) => {
    const session = ctx.request.transport === 'ws' ? ctx.session : null;
    // A subscription resumed right after a database outage waits for the database rather than ending in an error.
    // The current user, not the one at connect time: a role changed since (admin revoked) counts now.
    const current =
      session === null
        ? null
        : await (type === 'subscription'
            ? retryWhileDatabaseUnavailable(() => ctx.app.auth.currentUser(session.id), signal)
            : ctx.app.auth.currentUser(session.id));
    const auth: Pick<Context, 'user' | 'session' | 'authVia'> =
      session !== null && current === null
        ? { user: null, session: null, authVia: null }
        : { user: current ?? ctx.user, session: ctx.session, authVia: ctx.authVia };
    // Over HTTP (server-sent events) the stream takes its slots of the caps the WebSocket
    // adapter counts for its own subscriptions, before the procedure does any work.
    if (type === 'subscription') ctx.request.holdStream?.(subscriberKey(auth.user, ctx.request.ip));
    // Filled by authedProcedure, so one wrapper does both counting and the session check.
    const subscription: { watch?: SessionWatch } = {};
    const result = await next({ ctx: { ...auth, subscription } });
    if (type !== 'subscription' || !result.ok) {
      subscription.watch?.stop();
      return result;
    }
    const guarded = guardSubscription(result.data as AsyncIterable<unknown>, {
      onStart: () => ctx.app.stats.subscriptionStarted(path),
      watch: subscription.watch,
      requestSignal: signal,
    });
    // Our WebSocket adapter maps a stream's errors itself; over HTTP tRPC's SSE sends them as they are.
    const data = ctx.request.transport === 'http' ? withTRPCErrors(guarded) : guarded;
    return { ...result, data };
  });

export const publicProcedure = observed;

export const authedProcedure = observed.use(async ({ ctx, type, signal, next }) => {
  const { user, session } = ctx;
  if (!user || !session) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first: this needs a session.' });
  if (type !== 'query' && ctx.authVia === 'cookie' && !ctx.request.originTrusted) {
    // A cookie rides along on cross-site requests; only our own pages may use it to change state,
    // or to hold a stream (an EventSource from another site would take the user's slots).
    throw new TRPCError({
      code: 'FORBIDDEN',
      message: 'Cross-site request refused: cookie sessions only work from Hubcast pages.',
    });
  }
  if (type !== 'subscription')
    return next({ ctx: { user, session, sessionSignal: undefined as AbortSignal | undefined } });
  // The WebSocket context is built once per connection, and an SSE stream outlives its request's
  // session check, so a session that ends later must end its subscriptions here. Resolvers pass ctx.sessionSignal (client stop, disconnect, or
  // session end) to their waits, and the request's own `signal` on as `requestSignal`.
  const watch = ctx.app.auth.watchSession(session, signal);
  ctx.subscription.watch = watch;
  return next({ ctx: { user, session, sessionSignal: watch.signal } });
});

export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (ctx.user.role !== 'admin')
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Only administrators can do this.' });
  return next();
});

/**
 * Per-caller limit (signed-in user, else IP; or always the IP with `by: 'address'`) on top of
 * `base`. Counters come from `app.limits`: in memory on PGlite, else in Postgres or Redis, so
 * with several instances a limit counts requests wherever they land.
 */
export function rateLimited<P extends typeof publicProcedure | typeof authedProcedure>(
  base: P,
  name: string,
  opts: { points: number; durationSeconds: number; by?: 'caller' | 'address' },
): P {
  const limiters = new WeakMap<Context['app'], RateLimiterAbstract>();
  const limiterFor = (app: Context['app']) => {
    let limiter = limiters.get(app);
    if (!limiter)
      limiters.set(
        app,
        (limiter = app.limits.limiter({ keyPrefix: name, points: opts.points, duration: opts.durationSeconds })),
      );
    return limiter;
  };
  return (base as typeof publicProcedure).use(async ({ ctx, next }) => {
    // Credentials are limited by address: a bearer token of a throwaway account must not
    // move the guesses into a bucket of their own.
    const key = opts.by !== 'address' && ctx.user ? ctx.user.id : `ip:${ctx.request.ip}`;
    const taken = await take(limiterFor(ctx.app), key);
    if (!taken.ok)
      throw new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `Too many requests: try again in ${taken.waitSeconds} s.`,
      });
    return next();
  }) as P;
}
