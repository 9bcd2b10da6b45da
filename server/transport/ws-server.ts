import type { IncomingMessage } from 'node:http';
import type { AnyRouter } from '@trpc/server';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { App } from '../app';
import { createWsContext } from '../context';
import { appRouter } from '../router';
import { clientAddress } from './address';
import { CLOSE_RESUME, CLOSE_SERVICE_RESTART } from './close-codes';
import { FanoutHub } from './fanout';
import { attachWsAdapter } from './ws-adapter';

/** The WebSocket side of the server: upgrade checks, our tRPC adapter, the shared-topic fan-out. */
export function createWsServer(app: App, onError: (info: { error: { code: string; message: string }; path?: string }) => void, router: AnyRouter = appRouter) {
  const { config, log, stats } = app;
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.WS_MAX_PAYLOAD_BYTES });
  const hub = new FanoutHub(app.bus, { maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES, conflateBytes: config.WS_CONFLATE_BYTES, batch: 512 });
  const adapter = attachWsAdapter({
    wss,
    router,
    hub,
    createContext: (req, params) => createWsContext(app, req, params),
    onError,
    onAbuse: ({ reason, ip }) => log.warn({ ip, reason }, 'WebSocket closed: limit exceeded'),
    onSlowClient: () => stats.slowClientDisconnects++,
    clientAddress: (req) => clientAddress(req, config.TRUST_PROXY),
    onConnection: (open) => (open ? stats.connectionOpened() : stats.connectionClosed()),
    // Pings find dead peers (laptops closed, NAT timeouts) that never send a close frame.
    keepAlive: { pingMs: 20_000, pongWaitMs: 10_000 },
    limits: { maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES, callsPerSecond: config.WS_MAX_CALLS_PER_SECOND, maxSubscriptions: config.WS_MAX_SUBSCRIPTIONS },
  });

  // Stored events are rows: a client that resumes from its last id gets whatever the bus dropped.
  const stopOnMissed = app.bus.onMissed(() => {
    for (const ws of wss.clients) ws.close(CLOSE_RESUME, 'events may have been missed: resume');
  });

  return {
    hub,
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
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
    },
    /** Cuts every WebSocket without a close handshake, as a network failure would. */
    dropConnections() {
      for (const ws of wss.clients) ws.terminate();
    },
    /** Tells clients to reconnect (to another instance, or to us after restart), then closes. */
    closeAll() {
      adapter.broadcastReconnectNotification();
      for (const ws of wss.clients) ws.close(CLOSE_SERVICE_RESTART, 'server restarting');
    },
    terminateAll() {
      for (const ws of wss.clients) ws.terminate();
    },
    close() {
      stopOnMissed();
      adapter.close();
      wss.close();
    },
  };
}
