/**
 * `npm run soak`: 2,000 WebSocket connections held open, each subscribed to chat, collections,
 * notifications and the market's live candles, with steady traffic on every one of them, for
 * SOAK_MINUTES (default 10). Each minute: the server's memory (heap after V8's own major GCs, RSS), event-loop
 * delay, and delivery latency (send → frame received). At the end: heap growth over the last 5
 * minutes (< 5 %) and p99 delivery latency (< 250 ms) in every minute; exit code 1 otherwise.
 *
 * Env: SOAK_MINUTES, SOAK_CONNECTIONS (2000), SOAK_USERS (500), SOAK_CHAT_PER_SECOND (20),
 * SOAK_COLLECTIONS_PER_SECOND (10); DATABASE_URL to soak on Postgres instead of in-memory PGlite.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { nowMs, sentAtOf } from '../bench/event';
import type { SoakCommand, SoakSample, SoakUser } from './server';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 2000);
const USERS = Number(process.env.SOAK_USERS ?? 500);
const CHAT_PER_SECOND = Number(process.env.SOAK_CHAT_PER_SECOND ?? 20);
const COLLECTIONS_PER_SECOND = Number(process.env.SOAK_COLLECTIONS_PER_SECOND ?? 10);
const GROWTH_WINDOW = Math.min(5, MINUTES - 1);
const MAX_GROWTH = 0.05;
const MAX_P99_MS = 250;

const child = fork(fileURLToPath(new URL('./server.ts', import.meta.url)), [String(USERS)], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const ask = <T>(m: SoakCommand) =>
  new Promise<T>((resolve) => {
    child.once('message', (v) => resolve(v as T));
    child.send(m);
  });
const { url, users } = await new Promise<{ url: string; users: SoakUser[] }>((resolve) =>
  child.once('message', (v) => resolve(v as never)),
);
console.log(
  `soak: ${CONNECTIONS} connections for ${USERS} users, ${MINUTES} min, ${CHAT_PER_SECOND} chat messages/s, ${COLLECTIONS_PER_SECOND} collection changes/s, 1 candle/s`,
);

// --- clients -----------------------------------------------------------------------------------
let latencies: number[] = [];
const delivered: Record<string, number> = { chat: 0, collections: 0, notifications: 0, market: 0 };
let closes = 0;
let errors = 0;
const sockets: WebSocket[] = [];
// A timestamp the soak writes into message content and collection titles: `ts:<ms>`.
const stamp = () => `ts:${nowMs().toFixed(3)}`;
const STREAMS: [number, string, unknown][] = [
  [1, 'chat.events', {}],
  [2, 'collections.events', {}],
  [3, 'system.notifications', {}],
  [4, 'market.live', { symbol: 'BTCUSDT', timeframe: '1m' }],
];
const FEATURE: Record<number, string> = { 1: 'chat', 2: 'collections', 3: 'notifications', 4: 'market' };

function onFrame(ws: WebSocket, text: string) {
  if (text === 'PING') return void ws.send('PONG');
  const now = nowMs();
  const market = sentAtOf(text);
  const ts = market ?? (/ts:(\d+\.\d+)/.exec(text) ? Number(/ts:(\d+\.\d+)/.exec(text)![1]) : null);
  if (text.includes('"error"')) errors++;
  if (ts === null) return;
  latencies.push(now - ts);
  const id = Number(/^\{"id":(\d+)/.exec(text)?.[1]);
  const feature = FEATURE[id];
  if (feature) delivered[feature]!++;
}

function open(user: SoakUser): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/trpc?connectionParams=1`, { perMessageDeflate: false });
    sockets.push(ws);
    let started = 0;
    ws.on('open', () => {
      ws.send(JSON.stringify({ method: 'connectionParams', data: { token: user.token } }));
      for (const [id, path, input] of STREAMS)
        ws.send(JSON.stringify({ id, method: 'subscription', params: { path, input: { json: input } } }));
    });
    ws.on('message', (data) => {
      const text = data.toString();
      if (started < STREAMS.length && text.includes('"type":"started"') && ++started === STREAMS.length) resolve();
      onFrame(ws, text);
    });
    ws.on('close', () => void closes++);
    ws.on('error', (err) => (started < STREAMS.length ? reject(err) : undefined));
  });
}

for (let i = 0; i < CONNECTIONS; i += 100)
  await Promise.all(
    Array.from({ length: Math.min(100, CONNECTIONS - i) }, (_, j) => open(users[(i + j) % users.length]!)),
  );
const opened = await ask<SoakSample>({ cmd: 'sample' });
console.log(`soak: ${opened.connections} connections, ${opened.subscriptions} subscriptions open on the server`);

// --- traffic: real procedures over HTTP with each user's bearer token ---------------------------
let sent = 0;
let failed = 0;
async function post(token: string, path: string, input: unknown) {
  const res = await fetch(`${url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ json: input }),
  });
  await res.text();
  if (res.ok) sent++;
  else failed++;
}
function every(perSecond: number, act: () => Promise<void>) {
  return setInterval(() => void act().catch(() => void failed++), 1000 / perSecond);
}
let n = 0;
const timers = [
  every(CHAT_PER_SECOND, () => {
    const u = users[n++ % users.length]!;
    return post(u.token, 'chat.send', { conversationId: u.conversationId, content: `soak ${stamp()}` });
  }),
  every(COLLECTIONS_PER_SECOND, () => {
    const u = users[n++ % users.length]!;
    return post(u.token, 'collections.update', { id: u.collectionId, title: `soak ${stamp()}` });
  }),
];

// --- minutes -----------------------------------------------------------------------------------
const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! : NaN;
const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
const minutes: (SoakSample & { p50: number; p99: number; max: number; frames: number })[] = [];
for (let m = 1; m <= MINUTES; m++) {
  await new Promise((r) => setTimeout(r, 60_000));
  const sample = await ask<SoakSample>({ cmd: 'sample' });
  const sorted = latencies.sort((a, b) => a - b);
  latencies = [];
  const row = {
    ...sample,
    p50: pct(sorted, 50),
    p99: pct(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    frames: sorted.length,
  };
  minutes.push(row);
  console.log(
    `minute ${m}: heap ${mb(row.heapUsed)} MB, rss ${mb(row.rss)} MB, loop p99 ${row.loopP99Ms.toFixed(1)} ms (max ${row.loopMaxMs.toFixed(1)}), ` +
      `delivery p50 ${row.p50.toFixed(1)} ms p99 ${row.p99.toFixed(1)} ms max ${row.max.toFixed(1)} ms over ${row.frames} frames, ` +
      `${row.connections} connections, calls ok ${sent} failed ${failed}, delivered ${JSON.stringify(delivered)}, closes ${closes}, slow cuts ${row.slowCuts}`,
  );
}

for (const t of timers) clearInterval(t);
const closedEarly = closes;
for (const ws of sockets) ws.terminate();
const exited = new Promise((r) => child.once('exit', r));
child.send({ cmd: 'stop' } satisfies SoakCommand);
await exited;

// --- verdict -----------------------------------------------------------------------------------
const first = minutes.at(-1 - GROWTH_WINDOW)!;
const last = minutes.at(-1)!;
const growth = (last.heapUsed - first.heapUsed) / first.heapUsed;
const worstP99 = Math.max(...minutes.map((m) => m.p99));
const checks = [
  {
    ok: growth < MAX_GROWTH,
    text: `heap growth over the last ${GROWTH_WINDOW} min: ${(growth * 100).toFixed(2)} % (limit ${MAX_GROWTH * 100} %; rss ${mb(first.rss)} → ${mb(last.rss)} MB)`,
  },
  {
    ok: worstP99 < MAX_P99_MS,
    text: `worst minute's p99 delivery latency: ${worstP99.toFixed(1)} ms (limit ${MAX_P99_MS} ms)`,
  },
  { ok: Object.values(delivered).every((v) => v > 0), text: `every feature delivered: ${JSON.stringify(delivered)}` },
  {
    ok: closedEarly === 0 && last.connections === CONNECTIONS && failed === 0 && errors === 0,
    text: `${last.connections} of ${CONNECTIONS} connections held to the end (${closedEarly} closed early), ${failed} failed calls, ${errors} error frames`,
  },
];
for (const c of checks) console.log(`${c.ok ? 'PASS' : 'FAIL'} ${c.text}`);
process.exit(checks.every((c) => c.ok) ? 0 : 1);
