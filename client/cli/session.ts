import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createTRPCClient, createWSClient, httpBatchLink, wsLink } from '@trpc/client';
import superjson from 'superjson';
import WebSocket from 'ws';
import type { AppRouter } from '../../server/router';

/** Where `login` keeps the token: HUBCAST_CREDENTIALS, else ~/.hubcast/credentials.json (mode 600). */
const credentialsFile = process.env.HUBCAST_CREDENTIALS ?? join(homedir(), '.hubcast', 'credentials.json');

export interface CliContext {
  url: string;
  token: string | null;
}

export async function loadContext(urlFlag?: string): Promise<CliContext> {
  const saved = await readFile(credentialsFile, 'utf8')
    .then((s) => JSON.parse(s) as { url?: string; token?: string })
    .catch(() => ({}) as { url?: string; token?: string });
  const url = (urlFlag ?? process.env.HUBCAST_URL ?? saved.url ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const token = process.env.HUBCAST_TOKEN ?? (saved.url === undefined || saved.url === url ? saved.token : undefined) ?? null;
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

/** Subscriptions over one WebSocket, authenticated with connectionParams; reconnects and resumes by itself. */
export function wsApi(ctx: CliContext) {
  const ws = createWSClient({
    url: `${ctx.url.replace(/^http/, 'ws')}/trpc`,
    // Node 20 has no global WebSocket.
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: () => (ctx.token ? { token: ctx.token } : {}),
    retryDelayMs: (attempt) => Math.min(500 * 2 ** attempt, 10_000),
  });
  return { api: createTRPCClient<AppRouter>({ links: [wsLink({ client: ws, transformer: superjson })] }), close: () => ws.close() };
}

export interface StreamHandlers<T = unknown> {
  onStarted: () => void;
  onData: (data: T) => void;
  onError: (err: unknown) => void;
  onComplete: () => void;
}

/**
 * Runs one subscription over a fresh WebSocket until the server completes it, it fails,
 * `onData` returns true, or `signal` aborts (Ctrl-C); then closes the socket.
 */
export function followSubscription<T = unknown>(
  ctx: CliContext,
  signal: AbortSignal,
  subscribe: (api: ReturnType<typeof wsApi>['api'], handlers: StreamHandlers<T>) => { unsubscribe(): void },
  opts: { onData: (data: T) => boolean | void; onStarted?: () => void },
): Promise<void> {
  const { api, close } = wsApi(ctx);
  return new Promise<void>((resolve, reject) => {
    const stop = () => {
      sub.unsubscribe();
      resolve();
    };
    const sub = subscribe(api, {
      onStarted: () => opts.onStarted?.(),
      onData: (data) => opts.onData(data) === true && stop(),
      onError: reject,
      onComplete: resolve,
    });
    signal.addEventListener('abort', stop, { once: true });
  }).finally(close);
}
