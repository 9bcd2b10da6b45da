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

const env = process.env;
const NS = (env.BENCH_N ?? '1000,5000').split(',').map(Number);
const TARGETS = (env.BENCH_TARGETS ?? 'hubcast,socketio,ws').split(',') as Target[];
const LIGHT = Number(env.BENCH_LIGHT_EVENTS ?? 10);
const BURST = Number(env.BENCH_BURST_EVENTS ?? 100);
const BURST_RATE = Number(env.BENCH_BURST_RATE ?? 100);
const REPS = Number(env.BENCH_REPS ?? 1);
/** The slow-client scenario: the saturation burst again with one subscriber that stopped reading. */
const STALL = env.BENCH_STALL !== '0';
/** The longest the slow client waits, once cut, before it reads again (the server terminates a cut socket after 5 s). */
const READ_AFTER_CUT_MS = 3000;
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

interface Result {
  bytes?: number;
  deliveriesPerSec: number;
  light: { p50: number; p99: number; max: number };
  burst: { p50: number; p99: number; max: number };
  cpuUsPerDelivery: number;
  idleRssKB: number;
  idleHeapKB: number;
  heapKeptKB: number;
  cuts: number;
  received: number;
  /** Messages the server wrote during the burst (bench events plus, for Hubcast, whatever else it wrote then). */
  written: number;
  expected: number;
  maxLoopBlockMs: number;
  /** The saturation burst again with one more client, the slow one's twin, that keeps reading: the load it adds by itself. */
  reading?: Stall;
  /** The saturation burst again with that client stopped reading: the others' p99, and how the stalled one ended. */
  stall?: Stall;
}

interface Stall {
  p99: number;
  received: number;
  maxLoopBlockMs: number;
  /** null: still open when the others had everything. */
  closeCode: number | null;
  /** Unsent bytes the server held for it then (Socket.IO, bare ws; null where not known). */
  backlogBytes: number | null;
  /** Hubcast, once cut: what it got back resuming each subscription from its last id. */
  recovery: Recovery | null;
}

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

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
function medianResult(rs: Result[]): Result {
  if (rs.length === 1) return rs[0]!;
  const m = (f: (r: Result) => number) => median(rs.map(f));
  return {
    deliveriesPerSec: m((r) => r.deliveriesPerSec),
    light: { p50: m((r) => r.light.p50), p99: m((r) => r.light.p99), max: m((r) => r.light.max) },
    burst: { p50: m((r) => r.burst.p50), p99: m((r) => r.burst.p99), max: m((r) => r.burst.max) },
    cpuUsPerDelivery: m((r) => r.cpuUsPerDelivery),
    idleRssKB: m((r) => r.idleRssKB),
    idleHeapKB: m((r) => r.idleHeapKB),
    heapKeptKB: m((r) => r.heapKeptKB),
    cuts: Math.max(...rs.map((r) => r.cuts)),
    received: m((r) => r.received),
    written: m((r) => r.written),
    expected: rs[0]!.expected,
    maxLoopBlockMs: Math.max(...rs.map((r) => r.maxLoopBlockMs)),
    reading: rs[0]!.reading && {
      ...rs.at(-1)!.reading!,
      p99: m((r) => r.reading!.p99),
      received: m((r) => r.reading!.received),
      maxLoopBlockMs: Math.max(...rs.map((r) => r.reading!.maxLoopBlockMs)),
    },
    // How the slow client ended: the last run's outcome.
    stall: rs[0]!.stall && {
      ...rs.at(-1)!.stall!,
      p99: m((r) => r.stall!.p99),
      received: m((r) => r.stall!.received),
      maxLoopBlockMs: Math.max(...rs.map((r) => r.stall!.maxLoopBlockMs)),
    },
  };
}

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const ratio = (a: number, b: number) => (b ? `${(a / b).toFixed(2)}×` : '–');

function table(n: number, r: Partial<Record<Target, Result>>) {
  const cols = TARGETS.filter((t) => r[t]);
  const row = (label: string, f: (x: Result) => string) => `| ${label} | ${cols.map((t) => f(r[t]!)).join(' | ')} |`;
  const lines = [
    `### N = ${n.toLocaleString('en')} subscribers`,
    '',
    `| | ${cols.join(' | ')} |`,
    `|---|${cols.map(() => '---').join('|')}|`,
    row(`deliveries/s at saturation (${BURST} events at ${BURST_RATE}/s)`, (x) => f0(x.deliveriesPerSec)),
    row('delivered / expected', (x) => `${x.received} / ${x.expected}`),
    row(
      `latency p50 / p99 / max, ${LIGHT} events at 1/s (ms)`,
      (x) => `${f1(x.light.p50)} / ${f1(x.light.p99)} / ${f1(x.light.max)}`,
    ),
    row(
      'latency p50 / p99 / max at saturation (ms)',
      (x) => `${f0(x.burst.p50)} / ${f0(x.burst.p99)} / ${f0(x.burst.max)}`,
    ),
    row('server CPU per message written (µs)', (x) => f1(x.cpuUsPerDelivery)),
    row('messages written during the burst', (x) => String(x.written)),
    row(
      'idle memory per subscribed connection, RSS / heap after GC (KB)',
      (x) => `${f1(x.idleRssKB)} / ${f1(x.idleHeapKB)}`,
    ),
    row('heap kept per connection after the burst (KB)', (x) => f1(x.heapKeptKB)),
    row('longest event-loop block during the burst (ms)', (x) => f0(x.maxLoopBlockMs)),
    row('connections cut', (x) => String(x.cuts)),
  ];
  if (cols.every((t) => r[t]!.stall && r[t]!.reading)) {
    lines.push(
      row("with one more client that keeps reading (the slow one's twin): the others' p99 at saturation (ms)", (x) =>
        f0(x.reading!.p99),
      ),
      row("with one subscriber that stopped reading: the others' p99 at saturation (ms)", (x) => f0(x.stall!.p99)),
      row('… that p99 over the one without it (must stay ≤ 2×)', (x) => ratio(x.stall!.p99, x.burst.p99)),
      row('… that p99 over the one with its twin reading (what the stall itself costs)', (x) =>
        ratio(x.stall!.p99, x.reading!.p99),
      ),
      row('… delivered to the others / expected', (x) => `${x.stall!.received} / ${x.expected}`),
      row('… longest event-loop block during that burst (ms)', (x) => f0(x.stall!.maxLoopBlockMs)),
      row('… the slow client: close code, or still open with the bytes the server held for it', (x) =>
        stallEnd(x.stall!),
      ),
      row('… burst events it missed / got back resuming from its last ids', (x) => stallRecovery(x.stall!)),
    );
  }
  const h = r.hubcast;
  if (h) {
    for (const other of ['socketio', 'ws'] as const) {
      const o = r[other];
      if (!o) continue;
      lines.push(
        '',
        `Hubcast vs ${other}: deliveries/s ${ratio(h.deliveriesPerSec, o.deliveriesPerSec)}, p99 at 1/s ${ratio(h.light.p99, o.light.p99)}, ` +
          `p99 at saturation ${ratio(h.burst.p99, o.burst.p99)}, CPU per delivery ${ratio(h.cpuUsPerDelivery, o.cpuUsPerDelivery)}`,
      );
    }
  }
  return lines.join('\n');
}

function stallEnd(s: Stall) {
  if (s.closeCode !== null) return s.closeCode === 4008 ? '4008 (resume from your last id)' : String(s.closeCode);
  if (s.backlogBytes === null) return 'still open';
  return `still open, ${(s.backlogBytes / 1024).toFixed(0)} KB unsent in the server${s.backlogBytes === 0 ? ' (the kernel took its share of the burst)' : ''}`;
}

function stallRecovery(s: Stall) {
  const r = s.recovery;
  if (!r) return '–';
  const [lo, hi] = r.missedRange;
  const each = lo === hi ? String(lo) : `${lo}–${hi}`;
  return (
    `${each} of ${BURST} on each of ${r.subscriptions} subscriptions: ${r.recovered}/${r.missed} recovered, ` +
    `${r.inOrder ? 'in order, no gap' : 'OUT OF ORDER OR WITH A GAP'}${r.repeated ? `, ${r.repeated} already had sent again` : ''}`
  );
}

/** How the slow client is made, for the reader of the figures. */
const STALL_NOTE =
  `The slow client: one more WebSocket that stops reading (its socket paused) before the saturation burst is sent again. ` +
  `Loopback's socket buffers absorb ~4 MB of a paused reader's traffic before a server holds any, and one subscription's share of the burst is ~56 KB, ` +
  `so on Hubcast it holds ${STALL_SUBSCRIPTIONS} market.live subscriptions on that one socket (the bench server allows ${Math.max(100, STALL_SUBSCRIPTIONS)} per socket; ` +
  `WS_MAX_BUFFERED_BYTES stays at its 4 MB default): ~${((STALL_SUBSCRIPTIONS * BURST * 575) / 2 ** 20).toFixed(0)} MB, past the kernel's share plus that bound. ` +
  `The burst's candles are stored first, as closed candles are, so that once cut it reads again (when the others have the whole burst, at most ${READ_AFTER_CUT_MS / 1000} s after the cut: its own catching up runs on this machine too), ` +
  `sees the close code, reconnects and resumes every subscription from the last tracked id it got (tRPC lastEventId); ` +
  `the row after shows what it got back. On Socket.IO and bare ws it is one more room member / socket (no bound, no subscriptions to multiply). ` +
  `Its twin is the same client (same subscriptions, same stored burst) reading normally: on Hubcast at N = 1,000 its ${STALL_SUBSCRIPTIONS} subscriptions are ` +
  `${Math.round((STALL_SUBSCRIPTIONS / 1000) * 100)} % more deliveries on a saturated 2-core machine, so comparing the stall with its twin separates what stalling costs from that load.`;

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
