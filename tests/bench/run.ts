/**
 * `npm run bench`: Hubcast's market.live fan-out against a Socket.IO room broadcast and a bare
 * `ws` broadcast of the same message, in one run. Each server runs in its own process; the
 * subscribers are raw ws clients in two more. Figures are printed and written to RESULTS.md,
 * never asserted. Quick: `BENCH_N=200 BENCH_BURST_EVENTS=20 BENCH_LIGHT_EVENTS=3 npm run bench`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClientCommand } from './clients';
import { nowMs } from './event';
import type { Command, Target } from './server';

const env = process.env;
const NS = (env.BENCH_N ?? '1000,5000').split(',').map(Number);
const TARGETS = (env.BENCH_TARGETS ?? 'hubcast,socketio,ws').split(',') as Target[];
const LIGHT = Number(env.BENCH_LIGHT_EVENTS ?? 10);
const BURST = Number(env.BENCH_BURST_EVENTS ?? 100);
const BURST_RATE = Number(env.BENCH_BURST_RATE ?? 100);
const REPS = Number(env.BENCH_REPS ?? 1);
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
  static start(file: string, args: string[]) {
    return new Proc(fork(here(file), args, { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }
  next<T>(): Promise<T> {
    if (this.early.length) return Promise.resolve(this.early.shift() as T);
    return new Promise<T>((r) => this.waiting.push(r as never));
  }
  ask<T>(cmd: Command | ClientCommand): Promise<T> {
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
const pct = (xs: Float64Array, p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : NaN);

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
  /** Messages the server wrote during the burst (bench events plus, for Hubcast, demo updates). */
  written: number;
  expected: number;
  maxLoopBlockMs: number;
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
  const reports = await Promise.all(clients.map((c) => c.ask<{ latencies: number[]; lastAt: number; closes: number }>({ cmd: 'report' })));
  const all = Float64Array.from(reports.flatMap((r) => r.latencies)).sort();
  return { all, lastAt: Math.max(...reports.map((r) => r.lastAt)), closes: reports.reduce((a, r) => a + r.closes, 0) };
}

async function measure(target: Target, n: number): Promise<Result> {
  const server = Proc.start('server.ts', [target]);
  const { url, token } = await server.next<{ url: string; token?: string }>();
  const base = await server.ask<{ rss: number; heapUsed: number }>({ cmd: 'mem' });
  const clients = [Proc.start('clients.ts', []), Proc.start('clients.ts', [])];
  await Promise.all(clients.map((c) => c.next()));
  try {
    const half = [Math.ceil(n / 2), Math.floor(n / 2)];
    await Promise.all(clients.map((c, i) => c.ask({ cmd: 'connect', target, url, token, count: half[i]! })));
    const deadline = Date.now() + 120_000;
    while ((await server.ask<{ n: number }>({ cmd: 'subscribers' })).n < n && Date.now() < deadline) await sleep(200);
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
    const cpu1 = await server.ask<{ user: number; system: number; sent: number | null; cuts: number; maxLoopBlockMs: number }>({ cmd: 'cpu' });
    const burst = await latencies(clients);
    const after = await server.ask<{ rss: number; heapUsed: number }>({ cmd: 'mem' });
    const delivered = burst.all.length;
    // Hubcast's demo upstreams publish on the same topic during the burst: divide by what was written.
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
    };
  } finally {
    for (const c of clients) c.stop();
    server.stop();
    await sleep(1500);
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
    row(`latency p50 / p99 / max, ${LIGHT} events at 1/s (ms)`, (x) => `${f1(x.light.p50)} / ${f1(x.light.p99)} / ${f1(x.light.max)}`),
    row('latency p50 / p99 / max at saturation (ms)', (x) => `${f0(x.burst.p50)} / ${f0(x.burst.p99)} / ${f0(x.burst.max)}`),
    row('server CPU per message written (µs)', (x) => f1(x.cpuUsPerDelivery)),
    row('messages written during the burst', (x) => String(x.written)),
    row('idle memory per subscribed connection, RSS / heap after GC (KB)', (x) => `${f1(x.idleRssKB)} / ${f1(x.idleHeapKB)}`),
    row('heap kept per connection after the burst (KB)', (x) => f1(x.heapKeptKB)),
    row('longest event-loop block during the burst (ms)', (x) => f0(x.maxLoopBlockMs)),
    row('connections cut', (x) => String(x.cuts)),
  ];
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
  ...sections.flatMap((s) => [s, '']),
].join('\n');
if (env.BENCH_WRITE !== '0') writeFileSync(here('RESULTS.md'), doc);
console.log(`written to tests/bench/RESULTS.md (${machine})`);
process.exit(0);
