import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { AnyRouter } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import sirv from 'sirv';
import type { App } from './app';
import { createGoogleRoutes } from './modules/auth/google';
import { createHttpContext } from './context';
import { requestIdOf } from './errors';
import { metricsAllowed } from './transport/metrics-access';
import { checkHealth } from './modules/system/service';
import { appRouter } from './router';
import { createWsServer } from './transport/ws-server';
import { limitWriteTime } from './transport/write-timeout';
import { createRealtimeCaps } from './transport/caps';
import { limitStreamStalls, sseHold } from './transport/sse';
import { clientAddress } from './transport/address';
import { requestUrl } from './transport/request-url';
import { failureReporter, guarded } from './guarded';

export { CLOSE_SERVICE_RESTART, CLOSE_TOO_SLOW } from './transport/close-codes';

const clientDist = fileURLToPath(new URL('../client/dist', import.meta.url));

export interface RunningServer {
  port: number;
  url: string;
  /** Cuts every WebSocket without a close handshake, as a network failure would. */
  dropConnections(): void;
  /** Shared-topic fan-out: topics with subscribers attached, and how many. */
  fanout(): { topics: number; sinks: number; encodes: number };
  close(): Promise<void>;
}

/**
 * `router` is for tests only: appRouter merged with deliberately broken procedures
 * (tests/integration/fuzz-detects.test.ts); so is `staticDir`, the built web app's folder.
 */
export async function startServer(
  app: App,
  opts: { port?: number; host?: string; router?: AnyRouter; staticDir?: string } = {},
): Promise<RunningServer> {
  const router = opts.router ?? appRouter;
  const { config, log } = app;
  const caps = createRealtimeCaps(app);
  // Open server-sent-event streams: a closing server ends them at once, as it closes its WebSockets.
  const streams = new Set<ServerResponse>();
  const onError = ({ error, path }: { error: { code: string; stack?: string; message: string }; path?: string }) => {
    // The same id is in the client's answer (errorFormatter), so a report can be matched here.
    if (error.code === 'INTERNAL_SERVER_ERROR')
      log.error({ path, requestId: requestIdOf(error), err: error }, 'procedure failed');
  };
  const trpc = createHTTPHandler({
    router,
    basePath: '/trpc/',
    // Bodies past the limit are cut off while streaming (413); batches past the cap are refused
    // before any procedure runs, so one request cannot fan out into hundreds of writes.
    maxBodySize: config.HTTP_MAX_BODY_BYTES,
    maxBatchSize: config.HTTP_MAX_BATCH_SIZE,
    createContext: ({ req, res, info }) =>
      createHttpContext(
        app,
        req,
        (c) => res.appendHeader('Set-Cookie', c),
        info.type === 'subscription' ? sseHold(caps, clientAddress(req, config.TRUST_PROXY), res) : undefined,
      ),
    onError,
  });
  const staticDir = opts.staticDir ?? clientDist;
  const statics = existsSync(staticDir) ? sirv(staticDir, { single: true, etag: true }) : null;
  let google: ReturnType<typeof createGoogleRoutes> = null;

  // The listener's promise is dropped by node:http: everything in it, URL parsing included, stays
  // inside the try, and guarded() is the last resort, so no request can end the process.
  const server = createServer(
    guarded(log, 'HTTP request', async (req: IncomingMessage, res: ServerResponse) => {
      const path = req.url?.split('?')[0]?.slice(0, 200);
      limitWriteTime(
        res,
        config.HTTP_WRITE_TIMEOUT_MS,
        () => log.warn({ path }, 'HTTP client stopped reading its answer: disconnected'),
        () => {
          streams.add(res);
          res.once('close', () => streams.delete(res));
          limitStreamStalls(res, {
            stallMs: config.HTTP_WRITE_TIMEOUT_MS,
            maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
            onCut: () => {
              app.stats.slowClientDisconnects++;
              log.warn({ path }, 'SSE client stopped reading its stream: disconnected, to resume from its last id');
            },
          });
        },
      );
      try {
        const url = requestUrl(req);
        if (!url) {
          res.writeHead(400, { 'Content-Type': 'text/plain' }).end('The request path could not be read.');
          return;
        }
        if (url.pathname.startsWith('/trpc/')) return trpc(req, res);
        if (url.pathname === '/healthz') {
          const health = await checkHealth(app);
          res.writeHead(health.ok ? 200 : 503, { 'Content-Type': 'application/json' }).end(JSON.stringify(health));
          return;
        }
        if (url.pathname === '/metrics') {
          if (!metricsAllowed(req, config)) {
            res
              .writeHead(403, { 'Content-Type': 'text/plain' })
              .end('Metrics are served to loopback, or with Authorization: Bearer <METRICS_TOKEN>.');
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
    }),
  );

  const ws = createWsServer(app, onError, caps, router);
  // As the WebSockets are told (ws-server.ts): stored events are rows, a stream that resumes gets what the bus dropped.
  const stopOnMissed = app.bus.onMissed(
    guarded(log, 'telling SSE clients to resume', () => {
      for (const res of streams) res.destroy();
    }),
  );
  const upgradeFailed = failureReporter(log, 'WebSocket upgrade');
  server.on('upgrade', (req, socket, head) => {
    try {
      ws.handleUpgrade(req, socket, head);
    } catch (err) {
      upgradeFailed(err);
      socket.destroy();
    }
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
      ws.dropConnections();
    },
    fanout: () => ws.hub.stats(),
    async close() {
      ws.closeAll();
      // Their clients reconnect (to another instance, or to us after the restart) with their Last-Event-ID.
      for (const res of streams) res.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => {
          ws.terminateAll();
          server.closeAllConnections();
        }, 2_000).unref();
      });
      ws.close();
      stopOnMissed();
      caps.close();
    },
  };
}
