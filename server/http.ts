import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import sirv from 'sirv';
import { WebSocketServer, type WebSocket } from 'ws';
import type { App } from './app';
import { createGoogleRoutes } from './auth/google';
import { createHttpContext, createWsContext } from './context';
import { requestIdOf } from './errors';
import { metricsAllowed } from './transport/metrics-access';
import { checkHealth } from './modules/system/service';
import { appRouter } from './router';

/** Close code sent on shutdown: "service restart", which the client answers by reconnecting. */
export const CLOSE_SERVICE_RESTART = 1012;
/** Close code for a client that reads slower than we produce (see WS_MAX_BUFFERED_BYTES). */
export const CLOSE_TOO_SLOW = 4008;

const clientDist = fileURLToPath(new URL('../client/dist', import.meta.url));

export interface RunningServer {
  port: number;
  url: string;
  /** Cuts every WebSocket without a close handshake, as a network failure would. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startServer(app: App, opts: { port?: number; host?: string } = {}): Promise<RunningServer> {
  const { config, log, stats } = app;
  const onError = ({ error, path }: { error: { code: string; stack?: string; message: string }; path?: string }) => {
    // The same id is in the client's answer (errorFormatter), so a report can be matched here.
    if (error.code === 'INTERNAL_SERVER_ERROR') log.error({ path, requestId: requestIdOf(error), err: error }, 'procedure failed');
  };
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    // Bodies past the limit are cut off while streaming (413); batches past the cap are refused
    // before any procedure runs, so one request cannot fan out into hundreds of writes.
    maxBodySize: config.HTTP_MAX_BODY_BYTES,
    maxBatchSize: config.HTTP_MAX_BATCH_SIZE,
    createContext: ({ req, res }) => createHttpContext(app, req, (c) => res.appendHeader('Set-Cookie', c)),
    onError,
  });
  const statics = existsSync(clientDist) ? sirv(clientDist, { single: true, etag: true }) : null;
  let google: ReturnType<typeof createGoogleRoutes> = null;

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://local');
    try {
      if (url.pathname.startsWith('/trpc/')) return trpc(req, res);
      if (url.pathname === '/healthz') {
        const health = await checkHealth(app);
        res.writeHead(health.ok ? 200 : 503, { 'Content-Type': 'application/json' }).end(JSON.stringify(health));
        return;
      }
      if (url.pathname === '/metrics') {
        if (!metricsAllowed(req, config)) {
          res.writeHead(403, { 'Content-Type': 'text/plain' }).end('Metrics are served to loopback, or with Authorization: Bearer <METRICS_TOKEN>.');
          return;
        }
        res.writeHead(200, { 'Content-Type': app.metrics.contentType }).end(await app.metrics.metrics());
        return;
      }
      if (google && (await google(req, res, url))) return;
      if (statics) return statics(req, res, () => void res.writeHead(404).end('Not found'));
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('The web client is not built: run `npm run build`.');
    } catch (err) {
      log.error({ err }, 'request failed');
      if (!res.headersSent) res.writeHead(500).end('Internal error');
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const { pathname } = new URL(req.url ?? '/', 'http://local');
    const origin = req.headers.origin;
    if (pathname !== '/trpc' && pathname !== '/trpc/') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    // Browsers let any page open a WebSocket anywhere and attach our cookie: refuse other sites.
    if (origin && !app.http.isAllowedOrigin(origin)) {
      log.warn({ origin }, 'refused WebSocket from foreign origin');
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nOrigin not allowed');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  // Registered before tRPC's handler so the send guard is in place before anything is sent.
  wss.on('connection', (ws: WebSocket) => {
    stats.connectionOpened();
    ws.once('close', () => stats.connectionClosed());
    guardSlowReader(ws, config.WS_MAX_BUFFERED_BYTES, () => stats.slowClientDisconnects++);
  });
  const wsHandler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: ({ req, info }) => createWsContext(app, req, info.connectionParams),
    // Pings find dead peers (laptops closed, NAT timeouts) that never send a close frame.
    keepAlive: { enabled: true, pingMs: 20_000, pongWaitMs: 10_000 },
    onError,
  });

  const host = opts.host ?? config.HOST;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? config.PORT, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  for (const h of new Set(['127.0.0.1', 'localhost', host])) app.http.allowOrigin(`http://${h}:${port}`);
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  google = createGoogleRoutes(app, config.PUBLIC_URL ?? url);

  return {
    port,
    url,
    dropConnections() {
      for (const ws of wss.clients) ws.terminate();
    },
    async close() {
      // Tell clients to reconnect (to another instance, or to us after restart), then cut.
      wsHandler.broadcastReconnectNotification();
      for (const ws of wss.clients) ws.close(CLOSE_SERVICE_RESTART, 'server restarting');
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
          server.closeAllConnections();
        }, 2_000).unref();
      });
      wss.close();
    },
  };
}

/** The ws adapter has no backpressure: past `limit` unsent bytes, the connection is closed. */
function guardSlowReader(ws: WebSocket, limit: number, onCut: () => void) {
  const send = ws.send.bind(ws) as (data: unknown, cb?: (err?: Error) => void) => void;
  let cut = false;
  (ws as unknown as { send: typeof send }).send = (data, cb) => {
    if (cut) return;
    if (ws.bufferedAmount > limit) {
      cut = true;
      onCut();
      ws.close(CLOSE_TOO_SLOW, 'client too slow');
      // close() waits behind the backlog; terminate if the peer still is not reading.
      setTimeout(() => ws.terminate(), 5_000).unref();
      return;
    }
    send(data, cb);
  };
}
