/**
 * One bench server in its own process (so CPU and memory are its own): `hubcast` (the real
 * server, market.live over our adapter), `socketio` (a room broadcast) or `ws` (one buffer to
 * every socket). Driven over IPC by run.ts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { writeHeapSnapshot } from 'node:v8';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Server as SocketIOServer } from 'socket.io';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ClosedCandleEvent } from '../../shared/market';
import { benchEvent, MANY_SYMBOLS, nowMs, STALL_SUBSCRIPTIONS, throwawayVaultKey, UNSTORED_ID_BASE } from './event';

export type Target = 'hubcast' | 'socketio' | 'ws';
export type Command =
  | { cmd: 'mem' }
  | { cmd: 'cpu' }
  | { cmd: 'subscribers' }
  | { cmd: 'slowest' }
  /** `stored`: closed candles stored first, as the exchange feed does, so a client can resume from their ids. */
  | { cmd: 'publish'; count: number; perSecond: number; stored?: boolean }
  /** One token per client of the connect-and-subscribe figure: each connection authenticates on its own. */
  | { cmd: 'tokens'; count: number }
  /** Hubcast: `missed` closed candles stored (never published), then a restart: clients resume to get them. */
  | { cmd: 'restart'; missed: number }
  | { cmd: 'url' }
  /**
   * Hubcast, many series: each of `symbols` (1m) gets an update every `minMs` to `maxMs`
   * (Binance's pace), for `seconds`; answers with how many it published and the event-loop delay.
   */
  | { cmd: 'pace'; symbols: string[]; seconds: number; minMs: number; maxMs: number }
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
  /** `count` tokens the server accepts (Hubcast: a stored session each), for the clients to authenticate with. */
  tokens(count: number): Promise<string[]>;
  /** Hubcast: closes and starts again on the same database and port; returns every id stored so far. */
  restart?(): Promise<number[]>;
  /** Hubcast: publish() on another symbol's 1m series. */
  publishTo?(symbol: string, seq: number, due: number): void;
}

/** The peers' sign-in: a token they know, checked in memory, as a signed token's check would be. */
function knownTokens() {
  const one = randomBytes(20).toString('hex');
  const known = new Set<string>([one]);
  return {
    /** The slow client's (stalled.ts), as Hubcast's shared bench session is. */
    one,
    has: (t: unknown) => typeof t === 'string' && known.has(t),
    tokens: (count: number) => {
      const made = Array.from({ length: count }, () => randomBytes(20).toString('hex'));
      for (const t of made) known.add(t);
      return Promise.resolve(made);
    },
  };
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

async function hubcast(): Promise<Target_> {
  const { loadConfig } = await import('../../server/config');
  const { createApp } = await import('../../server/app');
  const { startServer } = await import('../../server/http');
  const { openDatabase } = await import('../../server/db/client');
  const { startDemoUpstreams } = await import('../../server/demo');
  const { seriesTopic } = await import('../../server/modules/market/series');
  const { createSession, generateSessionToken, sessionIdFromToken, SESSION_TTL_MS } =
    await import('../../server/modules/auth/session');
  const { sessions } = await import('../../server/db/schema');
  const { wsCounters } = await import('../../server/transport/counters');
  const demo = await startDemoUpstreams();
  // The demo exchange ticks every second, and each tick is a forming update to every subscriber
  // of the bench's series: one more message a second to each Hubcast client, which the other
  // servers' clients do not get. The bench's exchange is the same fake, standing still.
  const { FakeBinance } = await import('../../server/demo/binance');
  const { DEFAULT_SYMBOLS } = await import('../../server/demo/binance-symbols');
  const stillExchange = await FakeBinance.start({ symbols: [...DEFAULT_SYMBOLS, ...MANY_SYMBOLS] });
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
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: null });
  // The restart keeps the in-memory database, as a deployed server's database outlives it.
  const kept = { ...database, close: () => Promise.resolve() };
  let app = await createApp(config, { database: kept });
  let server = await startServer(app, { port: 0 });
  const storedIds: number[] = [];
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
    // The same port after a restart; read again, all the same.
    get url() {
      return server.url.replace('http', 'ws') + '/trpc?connectionParams=1';
    },
    token,
    subscribers: () => server.fanout().sinks,
    // Straight onto the series topic, as SeriesHub publishes a closed candle: the real subscription path.
    publish: (seq, due) => {
      const stored = prepared.get(seq);
      prepared.delete(seq);
      app.bus.publish(topic, stored ?? { id: UNSTORED_ID_BASE + seq, data: benchEvent(seq, due) });
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
      storedIds.push(...stored.map((c) => c.id));
      return stored.map((c) => c.id);
    },
    publishTo: (symbol, seq, due) =>
      app.bus.publish(seriesTopic(symbol, '1m'), { id: UNSTORED_ID_BASE + seq, data: benchEvent(seq, due) }),
    cuts: () => app.stats.slowClientDisconnects,
    sent: () => wsCounters.messagesSent,
    restart: async () => {
      const { port } = server;
      prepared.clear();
      await server.close();
      await app.close();
      app = await createApp(config, { database: kept });
      server = await startServer(app, { port });
      return storedIds;
    },
    // A session per client, as after a deploy (each browser its own): one shared session would be one read, cached or not.
    tokens: async (count) => {
      const made = Array.from({ length: count }, () => generateSessionToken());
      const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
      for (let i = 0; i < made.length; i += 1000) {
        const rows = made.slice(i, i + 1000).map((t) => ({ id: sessionIdFromToken(t), userId: user.id, expiresAt }));
        await app.db.insert(sessions).values(rows);
      }
      return made;
    },
  };
}

async function listen(server: ReturnType<typeof createServer>) {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function socketio(): Promise<Target_> {
  const http = createServer();
  const io = new SocketIOServer(http, { transports: ['websocket'], serveClient: false });
  const auth = knownTokens();
  // Socket.IO's own place for a token: the CONNECT packet's auth payload, checked before `connection`.
  io.use((s, next) =>
    auth.has((s.handshake.auth as { token?: unknown }).token) ? next() : next(new Error('unauthorized')),
  );
  io.on('connection', (s) => void s.join('bench'));
  const port = await listen(http);
  return {
    url: `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
    token: auth.one,
    subscribers: () => io.of('/').adapter.rooms.get('bench')?.size ?? 0,
    publish: (seq, due) => void io.to('bench').emit('candle', benchEvent(seq, due)),
    cuts: () => 0,
    tokens: auth.tokens,
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
  const auth = knownTokens();
  // A socket joins with its first message, a known token; the server answers that it joined.
  const joined = new Set<WebSocket>();
  wss.on('connection', (c) => {
    c.once('message', (data) => {
      const token = (JSON.parse(String(data)) as { token?: unknown }).token;
      if (!auth.has(token)) return c.close(4001, 'unauthorized');
      joined.add(c);
      c.send('{"joined":true}');
    });
    c.once('close', () => joined.delete(c));
  });
  const port = await listen(http);
  return {
    url: `ws://127.0.0.1:${port}/`,
    token: auth.one,
    subscribers: () => joined.size,
    publish: (seq, due) => {
      const buf = Buffer.from(JSON.stringify(benchEvent(seq, due)));
      for (const c of joined) c.send(buf, { binary: false });
    },
    cuts: () => 0,
    tokens: auth.tokens,
    backlog: () => Math.max(0, ...[...joined].map((c) => c.bufferedAmount)),
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
    case 'restart': {
      const first = seq;
      seq += m.missed;
      // Due time 0: the replayed candles carry no send time, so clients keep them out of the latencies.
      await target.store!(Array.from({ length: m.missed }, (_, i) => ({ seq: first + i, due: 0 })));
      return reply({ ids: await target.restart!() });
    }
    case 'url':
      return reply({ url: target.url });
    case 'pace': {
      // Each series on its own random pace; one global seq keeps every series' open times rising.
      const end = nowMs() + m.seconds * 1000;
      const next = m.symbols.map(() => nowMs() + Math.random() * m.maxMs);
      let published = 0;
      const perSymbol = m.symbols.map(() => 0);
      loop.reset();
      while (nowMs() < end) {
        const now = nowMs();
        next.forEach((due, i) => {
          if (due > now) return;
          target.publishTo!(m.symbols[i]!, seq++, due);
          published++;
          perSymbol[i]!++;
          next[i] = due + m.minMs + Math.random() * (m.maxMs - m.minMs);
        });
        await new Promise((r) => setTimeout(r, 10));
      }
      return reply({ published, perSymbol, loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6 });
    }
    case 'tokens':
      return reply({ tokens: await target.tokens(m.count) });
    case 'stop':
      process.exit(0);
  }
});
process.send!({ url: target.url, token: target.token });
