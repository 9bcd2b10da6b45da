/**
 * One bench server in its own process (so CPU and memory are its own): `hubcast` (the real
 * server, market.live over our adapter), `socketio` (a room broadcast) or `ws` (one buffer to
 * every socket). Driven over IPC by run.ts.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { writeHeapSnapshot } from 'node:v8';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Server as SocketIOServer } from 'socket.io';
import { WebSocketServer } from 'ws';
import type { ClosedCandleEvent } from '../../shared/market';
import { benchEvent, nowMs, STALL_SUBSCRIPTIONS, throwawayVaultKey } from './event';

export type Target = 'hubcast' | 'socketio' | 'ws';
export type Command =
  | { cmd: 'mem' }
  | { cmd: 'cpu' }
  | { cmd: 'subscribers' }
  | { cmd: 'slowest' }
  /** `stored`: closed candles stored first, as the exchange feed does, so a client can resume from their ids. */
  | { cmd: 'publish'; count: number; perSecond: number; stored?: boolean }
  | { cmd: 'stop' };

interface Target_ {
  url: string;
  token?: string;
  subscribers(): number;
  publish(seq: number, due: number): void;
  /** Stores these events (Hubcast: as closed candles) so publish() sends them with their ids; returns the ids. */
  store?(events: { seq: number; due: number }[]): Promise<number[]>;
  cuts(): number;
  /** Unsent bytes the server holds for its most backed-up socket, where it can tell. */
  backlog?(): number;
  /** Messages the server wrote, where it counts them (Hubcast: bench events and the few other messages, such as keep-alives). */
  sent?(): number;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

async function hubcast(): Promise<Target_> {
  const { loadConfig } = await import('../../server/config');
  const { createApp } = await import('../../server/app');
  const { startServer } = await import('../../server/http');
  const { openDatabase } = await import('../../server/db/client');
  const { startDemoUpstreams } = await import('../../server/demo');
  const { seriesTopic } = await import('../../server/modules/market/series');
  const { createSession, generateSessionToken } = await import('../../server/modules/auth/session');
  const { wsCounters } = await import('../../server/transport/counters');
  const demo = await startDemoUpstreams();
  // The demo exchange ticks every second, and each tick is a forming update to every subscriber
  // of the bench's series: one more message a second to each Hubcast client, which the other
  // servers' clients do not get. The bench's exchange is the same fake, standing still.
  const { FakeBinance } = await import('../../server/demo/binance');
  const stillExchange = await FakeBinance.start();
  // The slow client holds STALL_SUBSCRIPTIONS subscriptions on its one socket (run.ts, extraClientBurst); the buffer bound stays at its default.
  const config = loadConfig({
    ...process.env,
    ...demo.env,
    ...stillExchange.env,
    LOG_LEVEL: 'warn',
    PORT: '0',
    UPSTREAMS: 'demo',
    WS_MAX_CALLS_PER_SECOND: '1000',
    WS_MAX_SUBSCRIPTIONS: String(Math.max(100, STALL_SUBSCRIPTIONS)),
    // Thousands of simulated clients, all from loopback and one account: the open-count caps would refuse them.
    WS_MAX_SOCKETS_PER_ADDRESS: '1000000',
    WS_MAX_SUBSCRIPTIONS_PER_USER: '1000000',
    VAULT_KEY: throwawayVaultKey(),
  });
  const app = await createApp(config, { database: await openDatabase({ url: config.DATABASE_URL, dataDir: null }) });
  const server = await startServer(app, { port: 0 });
  const { user } = await app.auth.signUp({
    email: `bench-${Date.now()}@example.com`,
    name: 'Bench',
    password: 'benchmark password',
  });
  // One session for every connection: sign-in cost is not what is measured.
  const token = generateSessionToken();
  await createSession(app.db, token, user.id);
  const topic = seriesTopic('BTCUSDT', '1m');
  const prepared = new Map<number, { id: number; data: ClosedCandleEvent }>();
  return {
    url: server.url.replace('http', 'ws') + '/trpc?connectionParams=1',
    token,
    subscribers: () => server.fanout().sinks,
    // Straight onto the series topic, as SeriesHub publishes a closed candle: the real subscription path.
    publish: (seq, due) => {
      const stored = prepared.get(seq);
      prepared.delete(seq);
      app.bus.publish(topic, stored ?? { id: 1_000_000 + seq, data: benchEvent(seq, due) });
    },
    // What SeriesHub does with a closed candle (store, then publish the stored row), with the
    // storing done before the burst so the burst's publishing costs what the other one's does.
    store: async (events) => {
      const items = events.map(({ seq, due }) => {
        const e = benchEvent(seq, due);
        // closeTime is a bigint column; it carries the due time, so a replayed candle carries it too.
        return { candle: { ...e.candle, closeTime: Math.round(e.candle.closeTime) }, indicators: e.indicators };
      });
      const stored = await app.market.store.insert('BTCUSDT', '1m', items);
      // Stored in time order, which is seq order (openTime grows with seq).
      stored.forEach((c, i) =>
        prepared.set(events[i]!.seq, {
          id: c.id,
          data: { ...benchEvent(events[i]!.seq, 0), candle: c.candle, indicators: c.indicators },
        }),
      );
      return stored.map((c) => c.id);
    },
    cuts: () => app.stats.slowClientDisconnects,
    sent: () => wsCounters.messagesSent,
  };
}

async function listen(server: ReturnType<typeof createServer>) {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function socketio(): Promise<Target_> {
  const http = createServer();
  const io = new SocketIOServer(http, { transports: ['websocket'], serveClient: false });
  io.on('connection', (s) => void s.join('bench'));
  const port = await listen(http);
  return {
    url: `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
    subscribers: () => io.of('/').adapter.rooms.get('bench')?.size ?? 0,
    publish: (seq, due) => void io.to('bench').emit('candle', benchEvent(seq, due)),
    cuts: () => 0,
    // engine.io queues packets in its own write buffer while the socket's previous write is unfinished.
    backlog: () => {
      let most = 0;
      for (const s of io.of('/').sockets.values()) {
        const conn = s.conn as unknown as {
          writeBuffer: { data?: unknown }[];
          transport: { socket?: { bufferedAmount: number } };
        };
        const queued = conn.writeBuffer.reduce(
          (a, p) => a + (typeof p.data === 'string' ? Buffer.byteLength(p.data) : 0),
          0,
        );
        most = Math.max(most, queued + (conn.transport.socket?.bufferedAmount ?? 0));
      }
      return most;
    },
  };
}

async function bareWs(): Promise<Target_> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  const port = await listen(http);
  return {
    url: `ws://127.0.0.1:${port}/`,
    subscribers: () => wss.clients.size,
    publish: (seq, due) => {
      const buf = Buffer.from(JSON.stringify(benchEvent(seq, due)));
      for (const c of wss.clients) c.send(buf, { binary: false });
    },
    cuts: () => 0,
    backlog: () => Math.max(0, ...[...wss.clients].map((c) => c.bufferedAmount)),
  };
}

const kind = process.argv[2] as Target;
const target = await (kind === 'hubcast' ? hubcast() : kind === 'socketio' ? socketio() : bareWs());
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
let seq = 0;

process.on('message', async (m: Command) => {
  const reply = (v: unknown) => process.send!(v);
  switch (m.cmd) {
    case 'mem': {
      for (let i = 0; i < 3; i++) gc();
      const { rss, heapUsed } = process.memoryUsage();
      // What an idle subscribed connection keeps, for a heap analysis: written once, after the figures are taken.
      const snapshot = process.env.BENCH_HEAP_SNAPSHOT;
      if (snapshot && target.subscribers() > 0 && !existsSync(snapshot)) writeHeapSnapshot(snapshot);
      return reply({ rss, heapUsed });
    }
    case 'cpu':
      return reply({
        ...process.cpuUsage(),
        sent: target.sent?.() ?? null,
        cuts: target.cuts(),
        maxLoopBlockMs: loop.max / 1e6,
        resetLoop: loop.reset(),
      });
    case 'subscribers':
      return reply({ n: target.subscribers() });
    case 'slowest':
      return reply({ cuts: target.cuts(), backlogBytes: target.backlog?.() ?? null });
    case 'publish': {
      // Paced on the wall clock, so a slow fan-out does not slow the producer down.
      const store = m.stored ? target.store : undefined;
      // Stored events are stored first, with the due times they will be sent at: half a second to do it.
      const start = store ? Math.ceil(nowMs()) + 500 : nowMs();
      const first = seq;
      seq += m.count;
      const dues = Array.from({ length: m.count }, (_, i) => start + (i * 1000) / m.perSecond);
      const ids = store ? await store(dues.map((due, i) => ({ seq: first + i, due }))) : null;
      for (let i = 0; i < m.count; i++) {
        const wait = dues[i]! - nowMs();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        target.publish(first + i, dues[i]!);
      }
      return reply({ done: true, ids });
    }
    case 'stop':
      process.exit(0);
  }
});
process.send!({ url: target.url, token: target.token });
