/**
 * The soak's server, in its own process so its memory and event loop are its own: the real app
 * and HTTP/WebSocket server on demo upstreams, with the soak's accounts, conversations and
 * collections made through the real procedures. Driven over IPC by run.ts.
 */
import { randomUUID } from 'node:crypto';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { benchEvent, nowMs, throwawayVaultKey } from '../bench/event';
import { createApp } from '../../server/app';
import { createSession, generateSessionToken } from '../../server/modules/auth/session';
import { loadConfig } from '../../server/config';
import { createContextInner } from '../../server/context';
import { users } from '../../server/db/schema';
import { openDatabase } from '../../server/db/client';
import { startDemoUpstreams } from '../../server/demo';
import { startServer } from '../../server/http';
import { seriesTopic } from '../../server/modules/market/series';
import { appRouter } from '../../server/router';
import { createCallerFactory } from '../../server/trpc';

export type SoakCommand = { cmd: 'sample' } | { cmd: 'stop' };
export interface SoakUser {
  token: string;
  conversationId: number;
  collectionId: number;
}
export interface SoakSample {
  /** The smallest heap seen after a major GC this minute (the current heap if none ran). */
  heapUsed: number;
  rss: number;
  loopP99Ms: number;
  loopMaxMs: number;
  connections: number;
  subscriptions: number;
  slowCuts: number;
}

const userCount = Number(process.argv[2] ?? 500);

const demo = await startDemoUpstreams();
// SOAK_CONNECTIONS sockets, all from loopback: the per-address socket cap would refuse them.
const config = loadConfig({
  ...process.env,
  ...demo.env,
  LOG_LEVEL: 'warn',
  PORT: '0',
  UPSTREAMS: 'demo',
  VAULT_KEY: throwawayVaultKey(),
  WS_MAX_SOCKETS_PER_ADDRESS: '1000000',
});
const app = await createApp(config, { database: await openDatabase({ url: config.DATABASE_URL, dataDir: null }) });
const server = await startServer(app, { port: 0 });
const createCaller = createCallerFactory(appRouter);

// Accounts without scrypt (its cost is not what is soaked); sessions made the way sign-up makes them.
const rows = Array.from({ length: userCount }, (_, i) => ({
  id: randomUUID(),
  email: `soak-${i}-${randomUUID().slice(0, 6)}@example.com`,
  name: `Soak ${i}`,
}));
await app.db.insert(users).values(rows);
const people = rows.map(() => ({ token: generateSessionToken() }));
const callers = await Promise.all(
  rows.map(async (u, i) => {
    await createSession(app.db, people[i]!.token, u.id);
    const { user, session } = await app.auth.validate(people[i]!.token);
    return createCaller(createContextInner({ app, user, session, authVia: 'bearer' }));
  }),
);
// Pairs (0,1), (2,3) …: each pair shares a conversation; everyone owns a collection.
const soakUsers: SoakUser[] = [];
for (let i = 0; i < userCount; i += 2) {
  const [a, b] = [callers[i]!, callers[i + 1] ?? callers[0]!];
  const { invitationId } = await a.chat.invite({ toUserId: rows[i + 1]?.id ?? rows[0]!.id });
  const { conversationId } = await b.chat.respond({ invitationId, action: 'accept' });
  for (const j of [i, i + 1]) {
    if (j >= userCount) continue;
    const collection = await callers[j]!.collections.create({ title: `Soak ${j}` });
    soakUsers[j] = { token: people[j]!.token, conversationId: conversationId!, collectionId: collection.id };
  }
}

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

// The live heap is what is left right after a major GC. Forcing one would stall the very loop
// being measured (seconds on a busy machine), so the soak watches the ones V8 runs anyway and
// keeps the smallest heap seen after them each minute.
let afterMajorGc = Infinity;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
      afterMajorGc = Math.min(afterMajorGc, process.memoryUsage().heapUsed);
  }
}).observe({ entryTypes: ['gc'] });

// The market feature's traffic: one closed candle a second on the series topic, as SeriesHub
// publishes it, with its send time inside (tests/bench/event.ts).
const topic = seriesTopic('BTCUSDT', '1m');
let seq = 0;
const candles = setInterval(
  () => app.bus.publish(topic, { id: 1_000_000 + seq, data: benchEvent(seq++, nowMs()) }),
  1000,
);

process.on('message', async (m: SoakCommand) => {
  if (m.cmd === 'stop') {
    clearInterval(candles);
    await server.close();
    await app.close();
    await demo.close();
    process.exit(0);
  }
  const { heapUsed: now, rss } = process.memoryUsage();
  const heapUsed = Number.isFinite(afterMajorGc) ? afterMajorGc : now;
  afterMajorGc = Infinity;
  const subscriptions = Object.values(app.stats.subscriptionsByPath()).reduce((a, b) => a + b, 0);
  const sample: SoakSample = {
    heapUsed,
    rss,
    loopP99Ms: loop.percentile(99) / 1e6,
    loopMaxMs: loop.max / 1e6,
    connections: app.stats.connections,
    subscriptions,
    slowCuts: app.stats.slowClientDisconnects,
  };
  loop.reset();
  process.send!(sample);
});
process.send!({ url: server.url, users: soakUsers });
