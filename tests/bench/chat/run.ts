/**
 * `npm run bench:chat`: the durable chat path, Hubcast against a Socket.IO chat seed, on
 * PostgreSQL, in one run. 200 users in 100 two-person conversations; at each offered rate
 * (BENCH_CHAT_RATES, default 100,200,400,800 messages/s, each for BENCH_CHAT_SECONDS, default 5)
 * messages are sent over the senders' sockets and timed until they are on the other person's
 * socket. Each server gets a database of its own, made for the run and dropped after it.
 * Servers and clients are child processes. Figures are printed and written to RESULTS.md as
 * their own section, never asserted. Also: BENCH_CHAT_TARGETS (e.g. `hubcast`),
 * BENCH_CHAT_POSTGRES (the maintenance database, default postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_WRITE=0 (leave RESULTS.md alone).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { nowMs } from '../event';
import { writeResultsSection } from '../results-file';
import {
  TARGETS,
  type ClientCommand,
  type ClientReport,
  type SendReport,
  type ServerCpu,
  type ServerReady,
  type Target,
} from './protocol';
import { chatTable, type PgCost, type StageResult } from './report';

const env = process.env;
const RATES = (env.BENCH_CHAT_RATES ?? '100,200,400,800').split(',').map(Number);
const SECONDS = Number(env.BENCH_CHAT_SECONDS ?? 5);
const targets = (env.BENCH_CHAT_TARGETS ?? TARGETS.join(',')).split(',') as Target[];
const ADMIN_URL = env.BENCH_CHAT_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CONVERSATIONS = 100;
const USERS = CONVERSATIONS * 2;
/**
 * chat.send allows 30 per user per 10 s, counted in fixed windows that open at a user's first
 * send; after a stage's last delivery the bench waits out the window, so no stage inherits
 * another's count. The wait is also at least STATS_LAG_MS, so a stage's statistics have landed.
 */
const LIMIT_WINDOW_MS = 11_000;
const SEND_LIMIT = 30;
/** How late pg_stat_database can be (see the idle measurement); the window wait covers it too. */
const STATS_LAG_MS = 11_000;
const IDLE_MS = 10_000;

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const children = new Set<ChildProcess>();

/** A child process answering one IPC message per command, in order. */
class Proc {
  private readonly waiting: ((v: unknown) => void)[] = [];
  private readonly early: unknown[] = [];
  private exited: { error: string } | null = null;
  readonly child: ChildProcess;
  constructor(file: string, args: string[], extraEnv: Record<string, string> = {}) {
    this.child = fork(here(file), args, {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...env, ...extraEnv },
    });
    children.add(this.child);
    this.child.on('message', (m) => {
      const w = this.waiting.shift();
      if (w) w(m);
      else this.early.push(m);
    });
    // A child that dies mid-run fails the run, instead of leaving it waiting for an answer.
    this.child.on('exit', (code, signal) => {
      children.delete(this.child);
      this.exited = { error: `${file} exited (${code ?? signal})` };
      for (const w of this.waiting.splice(0)) w(this.exited);
    });
  }
  next<T>(): Promise<T> {
    const p = this.early.length
      ? Promise.resolve(this.early.shift())
      : this.exited
        ? Promise.resolve(this.exited)
        : new Promise<unknown>((r) => this.waiting.push(r));
    return p.then((m) => {
      if (m && typeof m === 'object' && 'error' in m) throw new Error(String(m.error));
      return m as T;
    });
  }
  ask<T>(cmd: ClientCommand | { cmd: 'cpu' }): Promise<T> {
    const p = this.next<T>();
    this.child.send(cmd);
    return p;
  }
  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ cmd: 'stop' });
    await Promise.race([exited, sleep(5000)]);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

const pct = (xs: Float64Array, p: number) =>
  xs.length ? xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : NaN;

const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
const dbName = (t: Target) => `chatbench_${t}_${process.pid}_${Date.now().toString(36)}`;
const dbUrl = (name: string) => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
};
const created = new Set<string>();
async function dropDatabases() {
  // FORCE: a server killed mid-run may leave connections behind.
  for (const name of created) {
    await admin.unsafe(`drop database if exists "${name}" with (force)`).catch((err: unknown) => {
      console.error(`could not drop database ${name}: ${String(err)}`);
    });
    created.delete(name);
  }
}

async function pgStats(name: string): Promise<PgCost & { at: number }> {
  const [r] = await admin<{ c: string; i: string; f: string; r: string }[]>`
    select xact_commit as c, tup_inserted as i, tup_fetched as f, tup_returned as r
    from pg_stat_database where datname = ${name}`;
  return { xactCommit: +r!.c, tupInserted: +r!.i, tupFetched: +r!.f, tupReturned: +r!.r, at: Date.now() };
}
const keys = ['xactCommit', 'tupInserted', 'tupFetched', 'tupReturned'] as const;
const perSecond = (a: PgCost & { at: number }, b: PgCost & { at: number }) =>
  Object.fromEntries(keys.map((k) => [k, (b[k] - a[k]) / ((b.at - a.at) / 1000)])) as unknown as PgCost;

async function waitForDeliveries(clients: Proc[], total: number) {
  const deadline = Date.now() + 60_000;
  let [last, lastChange] = [-1, Date.now()];
  for (;;) {
    const counts = await Promise.all(clients.map((c) => c.ask<{ received: number }>({ cmd: 'count' })));
    const got = counts.reduce((a, c) => a + c.received, 0);
    if (got >= total || Date.now() > deadline) return;
    if (got !== last) [last, lastChange] = [got, Date.now()];
    else if (Date.now() - lastChange > 5000) return; // nothing more is coming
    await sleep(100);
  }
}

async function measure(target: Target): Promise<{ stages: StageResult[]; idle: PgCost }> {
  const name = dbName(target);
  await admin.unsafe(`create database "${name}"`);
  created.add(name);
  const url = dbUrl(name);
  const server =
    target === 'hubcast'
      ? new Proc('hubcast-server.ts', [String(CONVERSATIONS)], { DATABASE_URL: url })
      : new Proc('socketio-server.ts', [url, String(CONVERSATIONS)]);
  const clients: Proc[] = [];
  try {
    const ready = await server.next<ServerReady>();
    clients.push(new Proc('clients.ts', []), new Proc('clients.ts', []));
    await Promise.all(clients.map((c) => c.next()));
    const answers = await Promise.all(
      clients.map((c, side) =>
        c.ask<{ connected: number; refused?: string }>({
          cmd: 'connect',
          target,
          url: ready.url,
          seats: ready.conversations.map((conv, index) => ({
            conversationId: conv.id,
            index,
            side: side as 0 | 1,
            ...conv.sides[side]!,
          })),
        }),
      ),
    );
    const refused = answers.find((a) => a.refused)?.refused;
    if (refused) throw new Error(`${target}: a user could not connect (${refused})`);
    const { subscribers } = await server.ask<ServerCpu>({ cmd: 'cpu' });
    if (subscribers < USERS) throw new Error(`${target}: ${subscribers} of ${USERS} users are listening`);

    // The database's own background (Hubcast's leader election, the bus): taken off each stage's
    // cost. Measured once the set-up's statistics have landed: a PostgreSQL 15 backend that went
    // idle within a second of its last flush reports its counters 10 s later (PGSTAT_IDLE_INTERVAL).
    await sleep(STATS_LAG_MS);
    const idle0 = await pgStats(name);
    await sleep(IDLE_MS);
    let before = await pgStats(name);
    const idle = perSecond(idle0, before);

    const stages: StageResult[] = [];
    for (const rate of RATES) {
      const expected = Math.round(rate * SECONDS);
      if (expected / USERS > SEND_LIMIT)
        console.warn(`${rate}/s for ${SECONDS} s is over chat.send's ${SEND_LIMIT} per user per 10 s: expect refusals`);
      console.log(`${target}: ${rate} messages/s for ${SECONDS} s…`);
      const cpu0 = await server.ask<ServerCpu>({ cmd: 'cpu' });
      // The clients' clock (tests/bench/event.ts), so due times and arrival times compare.
      const start = nowMs() + 300;
      const sends = await Promise.all(
        clients.map((c) =>
          c.ask<SendReport>({ cmd: 'send', rate, seconds: SECONDS, start, conversations: CONVERSATIONS }),
        ),
      );
      const sent = sends.reduce((a, s) => a + s.sent, 0);
      const refusedBy: Record<string, number> = {};
      for (const s of sends) for (const [k, v] of Object.entries(s.refused)) refusedBy[k] = (refusedBy[k] ?? 0) + v;
      const accepted = sent - Object.values(refusedBy).reduce((a, b) => a + b, 0);
      await waitForDeliveries(clients, accepted);
      const cpu1 = await server.ask<ServerCpu>({ cmd: 'cpu' });
      const reports = await Promise.all(clients.map((c) => c.ask<ClientReport>({ cmd: 'report' })));
      await sleep(LIMIT_WINDOW_MS);
      const after = await pgStats(name);
      const seconds = (after.at - before.at) / 1000;
      const all = Float64Array.from(reports.flatMap((r) => r.latencies)).sort();
      const lastAt = Math.max(...reports.map((r) => r.lastAt));
      const per = (k: (typeof keys)[number]) => (after[k] - before[k] - idle[k] * seconds) / Math.max(1, accepted);
      stages.push({
        target,
        rate,
        expected,
        delivered: all.length,
        deliveredPerSec: all.length / ((lastAt - start) / 1000),
        p50: pct(all, 50),
        p99: pct(all, 99),
        max: all.at(-1) ?? NaN,
        cpuUsPerMessage: (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / Math.max(1, accepted),
        pg: {
          xactCommit: per('xactCommit'),
          tupInserted: per('tupInserted'),
          tupFetched: per('tupFetched'),
          tupReturned: per('tupReturned'),
        },
        refused: refusedBy,
      });
      console.log(chatTable(stages.slice(-1)).split('\n').at(-1));
      before = after;
    }
    return { stages, idle };
  } finally {
    await Promise.all([...clients, server].map((p) => p.stop()));
  }
}

/** Whatever ends the run, no child process and no bench database outlives it. */
let cleaning: Promise<void> | null = null;
const cleanUp = () =>
  (cleaning ??= (async () => {
    for (const c of children) c.kill('SIGKILL');
    await dropDatabases();
    await admin.end({ timeout: 5 });
  })());
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => void cleanUp().finally(() => process.exit(130)));

const started = new Date();
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GB, Node ${process.version}, load average at start ${loadavg()[0]!.toFixed(1)}`;
const results: StageResult[] = [];
const idles: string[] = [];
let failed: unknown = null;
try {
  const [row] = await admin<{ version: string }[]>`select current_setting('server_version') as version`;
  const version = row!.version;
  for (const target of targets) {
    const { stages, idle } = await measure(target);
    results.push(...stages);
    idles.push(`${target} ${idle.xactCommit.toFixed(1)} commits/s`);
  }
  const table = chatTable(RATES.flatMap((rate) => results.filter((r) => r.rate === rate)));
  const doc = [
    '## Chat: the durable path (npm run bench:chat)',
    '',
    `Written by \`npm run bench:chat\` (tests/bench/chat/run.ts) on ${started.toISOString()}; ${machine}; PostgreSQL ${version} on loopback.`,
    `${USERS} users in ${CONVERSATIONS} two-person conversations, one WebSocket each, in two client processes (one side of every conversation in each); each offered rate for ${SECONDS} s, spread over the conversations, both people of a conversation sending in turn.`,
    "Hubcast: the real server on a fresh database, each user a @trpc/client (wsLink, superjson) subscribed to `chat.events`, sending with `chat.send`. Socket.IO: a chat seed's path, one postgres.js INSERT into a plain messages table (its own fresh database) and an emit to the conversation's room, acknowledged. Both deliver to the sender's socket too; only the other person's copy is timed.",
    "Latency: from when a message was due to be sent to when it is on the other socket. Server CPU: process.cpuUsage of the server process from the stage start to its last delivery, per message accepted. Postgres: pg_stat_database deltas on the server's database over the stage and the 11 s after it (statistics reach pg_stat_database up to 10 s late; the wait also lets chat.send's per-user window of 30 per 10 s reopen), minus the idle background measured before the stages (" +
      idles.join(', ') +
      "), per message accepted. Hubcast's figure includes the rate limiter's counter (in Postgres, one upsert per send).",
    'Figures on a machine shared with other work are noisy; compare columns of one run, not runs.',
    '',
    table,
    '',
  ].join('\n');
  console.log(`\n${table}\n`);
  if (env.BENCH_WRITE !== '0') {
    writeResultsSection(doc);
    console.log(`written to tests/bench/RESULTS.md (${machine})`);
  }
} catch (err) {
  failed = err;
  console.error(err);
} finally {
  await cleanUp();
}
process.exit(failed ? 1 : 0);
