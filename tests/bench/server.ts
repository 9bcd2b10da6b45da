/**
 * One bench server in its own process (so CPU and memory are its own): `hubcast` (the real
 * server, market.live over our adapter), `socketio` (a room broadcast) or `ws` (one buffer to
 * every socket). Driven over IPC by run.ts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Server as SocketIOServer } from 'socket.io';
import { WebSocketServer } from 'ws';
import { benchEvent, nowMs, throwawayVaultKey } from './event';

export type Target = 'hubcast' | 'socketio' | 'ws';
export type Command = { cmd: 'mem' } | { cmd: 'cpu' } | { cmd: 'subscribers' } | { cmd: 'publish'; count: number; perSecond: number } | { cmd: 'stop' };

interface Target_ {
  url: string;
  token?: string;
  subscribers(): number;
  publish(seq: number, due: number): void;
  cuts(): number;
  /** Messages the server wrote, where it counts them: demo traffic shares Hubcast's topic. */
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
  const { createSession, generateSessionToken } = await import('../../server/auth/session');
  const { wsCounters } = await import('../../server/transport/counters');
  const demo = await startDemoUpstreams();
  const config = loadConfig({ ...process.env, ...demo.env, LOG_LEVEL: 'warn', PORT: '0', UPSTREAMS: 'demo', WS_MAX_CALLS_PER_SECOND: '1000', VAULT_KEY: throwawayVaultKey() });
  const app = await createApp(config, { database: await openDatabase({ url: config.DATABASE_URL, dataDir: null }) });
  const server = await startServer(app, { port: 0 });
  const { user } = await app.auth.signUp({ email: `bench-${Date.now()}@example.com`, name: 'Bench', password: 'benchmark password' });
  // One session for every connection: sign-in cost is not what is measured.
  const token = generateSessionToken();
  await createSession(app.db, token, user.id);
  const topic = seriesTopic('BTCUSDT', '1m');
  return {
    url: server.url.replace('http', 'ws') + '/trpc?connectionParams=1',
    token,
    subscribers: () => server.fanout().sinks,
    // Straight onto the series topic, as SeriesHub publishes a closed candle: the real subscription path.
    publish: (seq, due) => app.bus.publish(topic, { id: 1_000_000 + seq, data: benchEvent(seq, due) }),
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
      return reply({ rss, heapUsed });
    }
    case 'cpu':
      return reply({ ...process.cpuUsage(), sent: target.sent?.() ?? null, cuts: target.cuts(), maxLoopBlockMs: loop.max / 1e6, resetLoop: loop.reset() });
    case 'subscribers':
      return reply({ n: target.subscribers() });
    case 'publish': {
      // Paced on the wall clock, so a slow fan-out does not slow the producer down.
      const start = nowMs();
      for (let i = 0; i < m.count; i++) {
        const due = start + (i * 1000) / m.perSecond;
        const wait = due - nowMs();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        target.publish(seq++, due);
      }
      return reply({ done: true });
    }
    case 'stop':
      process.exit(0);
  }
});
process.send!({ url: target.url, token: target.token });
