import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AnyRouter } from '@trpc/server';
import { WebSocketServer } from 'ws';
import { createLogger } from '../../server/log';
import { createMemoryBus } from '../../server/realtime/bus';
import { FanoutHub } from '../../server/transport/fanout';
import { routerConfig } from '../../server/transport/internals';
import { OpenCounts } from '../../server/transport/open-counts';
import { attachWsAdapter } from '../../server/transport/ws-adapter';
import { afterThis } from '../helpers/cleanup';

type ConnectionParams = Record<string, string> | null;

/** The part of tRPC's `WSSHandlerOptions` its WebSocket tests set, served by our adapter. */
export interface ConformanceServerOpts {
  createContext?(opts: { req: IncomingMessage; info: { connectionParams: ConnectionParams } }): unknown;
  /** tRPC's default is off; ours always pings, so "off" is a period no test reaches. */
  keepAlive?: { enabled: boolean; pingMs?: number; pongWaitMs?: number };
}

const NEVER_MS = 3_600_000;

/**
 * tRPC's `trpcServerResource` (packages/server/src/__tests__/trpcServerResource.ts) with our
 * adapter in place of `applyWSSHandler`: any router, whatever its transformer, on a port of its
 * own, closable and reopenable on the same port. Closed when the test that made it ends.
 */
export function conformanceServer<TRouter extends AnyRouter>(router: TRouter, opts: ConformanceServerOpts = {}) {
  const log = createLogger('silent');
  const errors: { code: string; message: string; path?: string }[] = [];
  const keepAlive = opts.keepAlive?.enabled
    ? { pingMs: opts.keepAlive.pingMs ?? 30_000, pongWaitMs: opts.keepAlive.pongWaitMs ?? 5_000 }
    : { pingMs: NEVER_MS, pongWaitMs: NEVER_MS };
  const start = (port: number) => {
    // No host: Node then binds at once, so the port is known before this returns (tRPC's resource does the same).
    const wss = new WebSocketServer({ port });
    const bus = createMemoryBus((err) => log.error({ err }, 'bus handler failed'));
    const hub = new FanoutHub(
      bus,
      log,
      { maxBufferedBytes: 16 << 20, conflateBytes: 8 << 20, batch: 512 },
      routerConfig(router).transformer.output.serialize,
    );
    const handler = attachWsAdapter<unknown>({
      wss,
      router,
      hub,
      createContext: async (req, connectionParams) =>
        opts.createContext ? opts.createContext({ req, info: { connectionParams } }) : {},
      onError: ({ error, path }) => void errors.push({ code: error.code, message: error.message, path }),
      log,
      onAbuse: () => {},
      onSlowClient: () => {},
      onConnection: () => {},
      clientAddress: (req) => req.socket.remoteAddress ?? 'unknown',
      keepAlive,
      limits: { maxBufferedBytes: 16 << 20, callsPerSecond: 10_000, maxSubscriptions: 1_000 },
      userSubscriptions: new OpenCounts(1_000),
      subscriberKey: () => 'conformance',
    });
    return { wss, handler, listening: true };
  };
  let current = start(0);
  const wssPort = (current.wss.address() as AddressInfo).port;
  const ctx = {
    router,
    errors,
    wssPort,
    wssUrl: `ws://127.0.0.1:${wssPort}`,
    get wss() {
      return current.wss;
    },
    get wssHandler() {
      return current.handler;
    },
    destroyConnections() {
      for (const ws of current.wss.clients) ws.close();
    },
    async close() {
      if (!current.listening) throw new Error('Server is not running');
      current.listening = false;
      ctx.destroyConnections();
      current.handler.close();
      await new Promise((resolve) => current.wss.close(resolve));
    },
    open() {
      if (current.listening) throw new Error('Server is already running');
      current = start(wssPort);
    },
  };
  afterThis(async () => {
    if (!current.listening) return;
    for (const ws of current.wss.clients) ws.terminate();
    await ctx.close();
  });
  return ctx;
}
