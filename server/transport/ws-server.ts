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
import { subscriberKey, type RealtimeCaps } from './caps';
import { attachWsAdapter } from './ws-adapter';
import { routerConfig } from './internals';
import { requestUrl } from './request-url';
import { guarded } from '../guarded';

/** The WebSocket side of the server: upgrade checks, our tRPC adapter, the shared-topic fan-out. */
export function createWsServer(
  app: App,
  onError: (info: { error: { code: string; message: string }; path?: string }) => void,
  caps: RealtimeCaps,
  router: AnyRouter = appRouter,
) {
  const { config, log, stats } = app;
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.WS_MAX_PAYLOAD_BYTES });
  const hub = new FanoutHub(
    app.bus,
    log,
    { maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES, conflateBytes: config.WS_CONFLATE_BYTES, batch: 512 },
    routerConfig(router).transformer.output.serialize,
  );
  const adapter = attachWsAdapter({
    wss,
    router,
    hub,
    createContext: (req, params) => createWsContext(app, req, params),
    onError,
    log,
    onAbuse: ({ reason, ip }) => log.warn({ ip, reason }, 'WebSocket closed: limit exceeded'),
    onSlowClient: () => stats.slowClientDisconnects++,
    clientAddress: (req) => clientAddress(req, config.TRUST_PROXY),
    onConnection: (open) => (open ? stats.connectionOpened() : stats.connectionClosed()),
    // Pings find dead peers (laptops closed, NAT timeouts) that never send a close frame.
    keepAlive: { pingMs: 20_000, pongWaitMs: 10_000 },
    limits: {
      maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
      callsPerSecond: config.WS_MAX_CALLS_PER_SECOND,
      maxSubscriptions: config.WS_MAX_SUBSCRIPTIONS,
    },
    userSubscriptions: caps.userSubscriptions,
    // Every subscription needs a user today; one without would still be counted, per address.
    subscriberKey: (ctx) => subscriberKey(ctx.user, ctx.request.ip),
  });
  // Shared with the SSE streams (transport/sse.ts): both are open realtime connections of an address.
  const socketsPerAddress = caps.perAddress;
  // One warning per address reaching the cap, not one per refused attempt (a loop of retries).
  const warnedAddresses = new Set<string>();

  // Stored events are rows: a client that resumes from its last id gets whatever the bus dropped.
  const stopOnMissed = app.bus.onMissed(
    guarded(log, 'telling clients to resume', () => {
      for (const ws of wss.clients) ws.close(CLOSE_RESUME, 'events may have been missed: resume');
    }),
  );

  return {
    hub,
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      const url = requestUrl(req);
      const origin = req.headers.origin;
      if (!url) {
        socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
        return;
      }
      const { pathname } = url;
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
      // Counted before the handshake, so a burst of upgrades cannot all pass; released when the
      // TCP socket closes, which also covers a handshake that fails and a peer that vanishes.
      const ip = clientAddress(req, config.TRUST_PROXY);
      if (!socketsPerAddress.tryTake(ip)) {
        if (!warnedAddresses.has(ip)) {
          warnedAddresses.add(ip);
          log.warn({ ip, max: socketsPerAddress.max }, 'refused WebSocket: too many open from this address');
        }
        socket.end(
          `HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nToo many open connections from this address (at most ${socketsPerAddress.max}): close some tabs or try again later`,
        );
        return;
      }
      const release = () => {
        socketsPerAddress.release(ip);
        if (socketsPerAddress.count(ip) < socketsPerAddress.max) warnedAddresses.delete(ip);
      };
      // Gone already (its 'close' may have been emitted): nothing to upgrade, nothing to hold.
      if (socket.destroyed) return release();
      socket.once('close', release);
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
