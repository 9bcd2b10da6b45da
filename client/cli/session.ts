import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createTRPCClient, createWSClient, httpBatchLink, httpSubscriptionLink, wsLink } from '@trpc/client';
import superjson from 'superjson';
import WebSocket from 'ws';
import type { AppRouter } from '../../server/router';
import { NodeEventSource, type NodeEventSourceInit } from './event-source';
import { isResumePointMessage, type ResumePointMessage } from '../../shared/system';

/** Where `login` keeps the token: HUBCAST_CREDENTIALS, else ~/.hubcast/credentials.json (mode 600). */
const credentialsFile = process.env.HUBCAST_CREDENTIALS ?? join(homedir(), '.hubcast', 'credentials.json');

export const DEFAULT_URL = 'http://127.0.0.1:3000';

/** The command that signs in to `url` (with --url when it is not the default). */
export const loginHint = (url: string) =>
  `npm run cli -- login --email you@example.com${url === DEFAULT_URL ? '' : ` --url ${url}`}`;

/** The server did not answer at all (not running, wrong --url, network). */
export class Unreachable extends Error {
  constructor(url: string, why: string) {
    super(
      `Cannot reach the Hubcast server at ${url} (${why}). Is it running (npm start)? Point the CLI elsewhere with --url or HUBCAST_URL.`,
    );
  }
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
  UND_ERR_SOCKET: 'connection closed',
};

/** An Unreachable for a failed HTTP call (fetch's "fetch failed" with a network cause), else null. */
export function unreachable(err: unknown, url: string): Unreachable | null {
  let fetchFailed = false;
  let deepest = 'no answer';
  for (let e = err, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES[code]) return new Unreachable(url, NETWORK_CODES[code]);
    if (fetchFailed) deepest = e.message;
    fetchFailed ||= e instanceof TypeError && e.message === 'fetch failed';
  }
  return fetchFailed ? new Unreachable(url, deepest) : null;
}

/** How subscribing commands reach the server: one WebSocket (default), or server-sent events over HTTP (`--transport sse`). */
export type Transport = 'ws' | 'sse';

export interface CliContext {
  url: string;
  token: string | null;
  transport?: Transport;
}

/** The --transport flag in words a person can act on; absent → ws. */
export function parseTransport(flag: unknown): Transport {
  if (flag === undefined) return 'ws';
  if (flag === 'ws' || flag === 'sse') return flag;
  throw new Error(
    `--transport must be "ws" (WebSocket, the default) or "sse" (server-sent events over HTTP), got ${typeof flag === 'string' ? `"${flag}"` : 'no value'}.`,
  );
}

export async function loadContext(urlFlag?: string): Promise<CliContext> {
  const saved = await readFile(credentialsFile, 'utf8')
    .then((s) => JSON.parse(s) as { url?: string; token?: string })
    .catch(() => ({}) as { url?: string; token?: string });
  const url = (urlFlag ?? process.env.HUBCAST_URL ?? saved.url ?? DEFAULT_URL).replace(/\/+$/, '');
  const token =
    process.env.HUBCAST_TOKEN ?? (saved.url === undefined || saved.url === url ? saved.token : undefined) ?? null;
  return { url, token };
}

export async function saveToken(url: string, token: string | null) {
  if (token === null) return rm(credentialsFile, { force: true });
  await mkdir(dirname(credentialsFile), { recursive: true });
  await writeFile(credentialsFile, JSON.stringify({ url, token }), { mode: 0o600 });
}

/** Queries and mutations over HTTP with the bearer token. */
export function httpApi(ctx: CliContext) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${ctx.url}/trpc`,
        transformer: superjson,
        // Below the server's HTTP_MAX_BATCH_SIZE (default 50), which refuses larger batches whole.
        maxItems: 20,
        headers: () => (ctx.token ? { Authorization: `Bearer ${ctx.token}` } : {}),
      }),
    ],
  });
}

/**
 * Subscriptions over one WebSocket, authenticated with connectionParams; reconnects and resumes
 * by itself once connected. `onUnreachable`: the very first connection failed.
 */
export function wsApi(ctx: CliContext, onUnreachable?: (err: Unreachable) => void) {
  let opened = false;
  const ws = createWSClient({
    url: `${ctx.url.replace(/^http/, 'ws')}/trpc`,
    onOpen: () => void (opened = true),
    onClose: () => void (!opened && onUnreachable?.(new Unreachable(ctx.url, 'no WebSocket connection'))),
    // Node 20 has no global WebSocket.
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: () => (ctx.token ? { token: ctx.token } : {}),
    retryDelayMs: (attempt) => Math.min(500 * 2 ** attempt, 10_000),
  });
  return {
    api: createTRPCClient<AppRouter>({ links: [wsLink({ client: ws, transformer: superjson })] }),
    close: () => ws.close(),
  };
}

/**
 * Subscriptions over HTTP as server-sent events, for networks whose proxies refuse WebSocket
 * upgrades: one stream per subscription, the bearer token in its Authorization header, resumed
 * from its last event id when the stream drops.
 */
export function sseApi(ctx: CliContext, onFailure?: (err: Error) => void) {
  return {
    api: createTRPCClient<AppRouter>({
      links: [
        httpSubscriptionLink({
          url: `${ctx.url}/trpc`,
          transformer: superjson,
          EventSource: NodeEventSource,
          eventSourceOptions: (): NodeEventSourceInit => ({
            headers: ctx.token ? { Authorization: `Bearer ${ctx.token}` } : {},
            // The first connection failing is the server unreachable, as for the WebSocket.
            onFailure: (err) => onFailure?.(unreachable(err, ctx.url) ?? err),
          }),
        }),
      ],
    }),
    // Each stream closes with its subscription.
    close: () => {},
  };
}

export interface StreamHandlers<T = unknown> {
  onStarted: () => void;
  onData: (data: T) => void;
  onError: (err: unknown) => void;
  onComplete: () => void;
}

/**
 * Runs one subscription over a fresh WebSocket (or its own event stream with --transport sse)
 * until the server completes it, it fails,
 * `onData` returns true, or `signal` aborts (Ctrl-C); then closes the socket. A resumable
 * stream's resume point is not passed to `onData`: it only gives the socket's reconnects a lastEventId.
 */
export function followSubscription<T = unknown>(
  ctx: CliContext,
  signal: AbortSignal,
  subscribe: (
    api: ReturnType<typeof wsApi>['api'],
    handlers: StreamHandlers<T | ResumePointMessage>,
  ) => { unsubscribe(): void },
  opts: { onData: (data: T) => boolean | void; onStarted?: () => void },
): Promise<void> {
  let fail: (err: unknown) => void = () => {};
  const { api, close } = ctx.transport === 'sse' ? sseApi(ctx, (err) => fail(err)) : wsApi(ctx, (err) => fail(err));
  return new Promise<void>((resolve, reject) => {
    fail = reject;
    const stop = () => {
      sub.unsubscribe();
      resolve();
    };
    const sub = subscribe(api, {
      onStarted: () => opts.onStarted?.(),
      onData: (data) => isResumePointMessage(data) || (opts.onData(data) === true && stop()),
      onError: reject,
      onComplete: resolve,
    });
    signal.addEventListener('abort', stop, { once: true });
  }).finally(close);
}
