/**
 * `npm run bench`: Hubcast's market.live fan-out against a Socket.IO room broadcast and a bare
 * `ws` broadcast of the same message, in one run. Each server runs in its own process; the
 * subscribers are raw ws clients in two more. Figures are printed and written to RESULTS.md,
 * never asserted. Quick: `BENCH_N=200 BENCH_BURST_EVENTS=20 BENCH_LIGHT_EVENTS=3 npm run bench`.
 * Also: BENCH_TARGETS (e.g. `hubcast,socketio`), BENCH_REPS (medians), BENCH_STALL=0 (skip the
 * slow-client burst), BENCH_STALL_SUBS (its subscriptions on Hubcast, default 200: with fewer
 * burst events it needs more to be cut), BENCH_WRITE=0 (leave RESULTS.md alone), BENCH_SERVER_NODE_ARGS (e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`), BENCH_HEAP_SNAPSHOT=<file> (heap snapshot of the idle server).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClientCommand } from './clients';
import { nowMs, STALL_SUBSCRIPTIONS } from './event';
import type { Command, Target } from './server';
import type { Recovery, StalledCommand } from './stalled';
import { medianResult, STALL_NOTE, table, type Result, type Stall } from './report';
import { BURST, BURST_RATE, env, LIGHT, NS, READ_AFTER_CUT_MS, REPS, STALL, TARGETS } from './settings';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

/** A child process answering one IPC message per command, in order. */
class Proc {
  private readonly waiting: ((v: never) => void)[] = [];
  private readonly early: unknown[] = [];
  constructor(readonly child: ChildProcess) {
    child.on('message', (m) => {
      const w = this.waiting.shift();
      if (w) w(m as never);
      else this.early.push(m);
    });
    child.on('exit', (code) => {
      if (code) for (const w of this.waiting.splice(0)) w({ error: `exited with ${code}` } as never);
    });
  }
  static start(file: string, args: string[], extraArgv: string[] = []) {
    return new Proc(
      fork(here(file), args, {
        execArgv: ['--import', 'tsx', '--expose-gc', ...extraArgv],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
  }
  next<T>(): Promise<T> {
    if (this.early.length) return Promise.resolve(this.early.shift() as T);
    return new Promise<T>((r) => this.waiting.push(r as never));
  }
  ask<T>(cmd: Command | ClientCommand | StalledCommand): Promise<T> {
    const p = this.next<T>();
    this.child.send(cmd);
    return p;
  }
  stop() {
    this.child.send({ cmd: 'stop' });
    setTimeout(() => this.child.kill('SIGKILL'), 2000).unref();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: Float64Array, p: number) =>
  xs.length ? xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : NaN;

async function waitFor(clients: Proc[], total: number, quietMs: number, deadlineMs: number) {
  const deadline = Date.now() + deadlineMs;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const counts = await Promise.all(clients.map((c) => c.ask<{ received: number }>({ cmd: 'count' })));
    const got = counts.reduce((a, c) => a + c.received, 0);
    if (got >= total || Date.now() > deadline) return;
    if (got !== last) [last, lastChange] = [got, Date.now()];
    else if (Date.now() - lastChange > quietMs) return; // nothing more is coming
    await sleep(100);
  }
}

async function latencies(clients: Proc[]) {
  const reports = await Promise.all(
    clients.map((c) => c.ask<{ latencies: number[]; lastAt: number; closes: number }>({ cmd: 'report' })),
  );
  const all = Float64Array.from(reports.flatMap((r) => r.latencies)).sort();
  return { all, lastAt: Math.max(...reports.map((r) => r.lastAt)), closes: reports.reduce((a, r) => a + r.closes, 0) };
}

async function measure(target: Target, n: number): Promise<Result> {
  // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the servers.
  const server = Proc.start('server.ts', [target], (env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean));
  const { url, token } = await server.next<{ url: string; token?: string }>();
  const base = await server.ask<{ rss: number; heapUsed: number }>({ cmd: 'mem' });
  const clients = [Proc.start('clients.ts', []), Proc.start('clients.ts', [])];
  await Promise.all(clients.map((c) => c.next()));
  try {
    const half = [Math.ceil(n / 2), Math.floor(n / 2)];
    const connected = await Promise.all(
      clients.map((c, i) => c.ask<{ refused?: string }>({ cmd: 'connect', target, url, token, count: half[i]! })),
    );
    const refused = connected.find((r) => r.refused)?.refused;
    if (refused) throw new Error(`${target}: a subscriber was refused (${refused})`);
    const deadline = Date.now() + 120_000;
    while ((await server.ask<{ n: number }>({ cmd: 'subscribers' })).n < n) {
      if (Date.now() > deadline) throw new Error(`${target}: fewer than ${n} subscribers joined within 2 minutes`);
      await sleep(200);
    }
    await sleep(1000);
    const idle = await server.ask<{ rss: number; heapUsed: number }>({ cmd: 'mem' });

    await Promise.all(clients.map((c) => c.ask({ cmd: 'reset' })));
    await server.ask({ cmd: 'publish', count: LIGHT, perSecond: 1 });
    await waitFor(clients, n * LIGHT, 3000, 30_000);
    const light = await latencies(clients);

    await Promise.all(clients.map((c) => c.ask({ cmd: 'reset' })));
    const cpu0 = await server.ask<{ user: number; system: number; sent: number | null }>({ cmd: 'cpu' });
    const t0 = nowMs();
    await server.ask({ cmd: 'publish', count: BURST, perSecond: BURST_RATE });
    await waitFor(clients, n * BURST, 5000, 180_000);
    const cpu1 = await server.ask<{
      user: number;
      system: number;
      sent: number | null;
      cuts: number;
      maxLoopBlockMs: number;
    }>({ cmd: 'cpu' });
    const burst = await latencies(clients);
    const after = await server.ask<{ rss: number; heapUsed: number }>({ cmd: 'mem' });
    const reading = STALL ? await extraClientBurst(server, clients, target, url, token, n, 'reads') : undefined;
    const stall = STALL ? await extraClientBurst(server, clients, target, url, token, n, 'stops') : undefined;
    const delivered = burst.all.length;
    // Divide by what was written, where the server counts it.
    const written = cpu1.sent !== null && cpu0.sent !== null ? cpu1.sent - cpu0.sent : delivered;
    return {
      deliveriesPerSec: delivered / ((burst.lastAt - t0) / 1000),
      light: { p50: pct(light.all, 50), p99: pct(light.all, 99), max: light.all.at(-1) ?? NaN },
      burst: { p50: pct(burst.all, 50), p99: pct(burst.all, 99), max: burst.all.at(-1) ?? NaN },
      cpuUsPerDelivery: (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / Math.max(1, written),
      written,
      idleRssKB: (idle.rss - base.rss) / n / 1024,
      idleHeapKB: (idle.heapUsed - base.heapUsed) / n / 1024,
      heapKeptKB: (after.heapUsed - idle.heapUsed) / n / 1024,
      cuts: Math.max(burst.closes, cpu1.cuts),
      received: delivered,
      expected: n * BURST,
      maxLoopBlockMs: cpu1.maxLoopBlockMs,
      reading,
      stall,
    };
  } finally {
    for (const c of clients) c.stop();
    server.stop();
    await sleep(1500);
  }
}

/**
 * The same burst with one more subscriber that stops reading (`stops`): what it costs everyone
 * else, and how it ends; or with its twin that keeps reading (`reads`), the same load without
 * the stall, to tell the two apart. Loopback's socket buffers take ~4 MB of a paused reader's traffic before the
 * server holds any; one subscription's share of a burst (~56 KB) never gets there. So on
 * Hubcast the slow client holds STALL_SUBSCRIPTIONS market.live subscriptions on its one socket
 * (a dashboard of many charts, squeezed into one burst): ~11 MB, past the kernel's ~4 MB plus
 * the default WS_MAX_BUFFERED_BYTES (4 MB). Socket.IO and bare ws have no such bound and no
 * subscriptions to multiply: their slow client is one more room member or socket.
 */
async function extraClientBurst(
  server: Proc,
  clients: Proc[],
  target: Target,
  url: string,
  token: string | undefined,
  n: number,
  mode: 'reads' | 'stops',
): Promise<Stall> {
  const slow = Proc.start('stalled.ts', []);
  await slow.next();
  try {
    const subscriptions = target === 'hubcast' ? STALL_SUBSCRIPTIONS : 1;
    await slow.ask({ cmd: 'open', target, url, token, subscriptions, reads: mode === 'reads' });
    const deadline = Date.now() + 30_000;
    while ((await server.ask<{ n: number }>({ cmd: 'subscribers' })).n < n + subscriptions && Date.now() < deadline)
      await sleep(100);
    await Promise.all(clients.map((c) => c.ask({ cmd: 'reset' })));
    const { cuts: cutsBefore } = await server.ask<{ cuts: number }>({ cmd: 'slowest' });
    await server.ask({ cmd: 'cpu' }); // resets the longest-block monitor
    // Stored first (Hubcast), as closed candles are: the slow client resumes from their ids.
    // Its twin that keeps reading gets the same stored events, so the two runs differ only in the stall.
    const { ids } = await server.ask<{ ids: number[] | null }>({
      cmd: 'publish',
      count: BURST,
      perSecond: BURST_RATE,
      stored: true,
    });
    // A cut socket has 5 s to take its close frame before it is terminated: the slow client reads
    // again within that, as a client that was only slow would; once the others have everything
    // (or READ_AFTER_CUT_MS after the cut), so that its own catching up, done by a process on
    // this same machine, is not counted against the others' latency.
    let othersDone = false;
    const watch = (async () => {
      for (;;) {
        const s = await server.ask<{ cuts: number; backlogBytes: number | null }>({ cmd: 'slowest' });
        if (s.cuts > cutsBefore) {
          const cutAt = Date.now();
          while (!othersDone && Date.now() - cutAt < READ_AFTER_CUT_MS) await sleep(20);
          await slow.ask({ cmd: 'read' });
          return { cut: true, backlogBytes: null };
        }
        if (othersDone) return { cut: false, backlogBytes: s.backlogBytes };
        await sleep(50);
      }
    })();
    await waitFor(clients, n * BURST, 5000, 180_000);
    othersDone = true;
    const { cut, backlogBytes } = await watch;
    const { maxLoopBlockMs } = await server.ask<{ maxLoopBlockMs: number }>({ cmd: 'cpu' });
    const others = await latencies(clients);
    const { closeCode } = await slow.ask<{ closeCode: number | null }>({ cmd: 'closed', waitMs: cut ? 15_000 : 0 });
    const recovery =
      cut && ids ? await slow.ask<Recovery>({ cmd: 'resume', url, token, burst: ids, waitMs: 60_000 }) : null;
    return { p99: pct(others.all, 99), received: others.all.length, maxLoopBlockMs, closeCode, backlogBytes, recovery };
  } finally {
    slow.stop();
  }
}

const started = new Date();
const sections: string[] = [];
for (const n of NS) {
  const results: Partial<Record<Target, Result>> = {};
  for (const target of TARGETS) {
    const runs: Result[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      console.log(`${target}, N = ${n}, run ${rep + 1}/${REPS}…`);
      runs.push(await measure(target, n));
    }
    results[target] = medianResult(runs);
  }
  const section = table(n, results);
  console.log(`\n${section}\n`);
  sections.push(section);
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GB, Node ${process.version}, load average at start ${loadavg()[0]!.toFixed(1)}`;
const doc = [
  '# Fan-out benchmark results',
  '',
  `Written by \`npm run bench\` (tests/bench/run.ts) on ${started.toISOString()}; ${machine}.`,
  `Servers and clients in separate processes; subscribers are raw \`ws\` clients in two processes; ${REPS === 1 ? 'one run' : `medians of ${REPS} runs`} per figure.`,
  'Figures on a machine shared with other work are noisy; compare columns of one run, not runs.',
  '',
  ...(STALL ? [STALL_NOTE, ''] : []),
  ...sections.flatMap((s) => [s, '']),
].join('\n');
if (env.BENCH_WRITE !== '0') writeFileSync(here('RESULTS.md'), doc);
if (STALL) console.log(`${STALL_NOTE}\n`);
console.log(`written to tests/bench/RESULTS.md (${machine})`);
process.exit(0);
