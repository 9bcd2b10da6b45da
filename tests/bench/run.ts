/**
 * `npm run bench`: Hubcast's market.live fan-out against a Socket.IO room broadcast and a bare
 * `ws` broadcast of the same message, in one run, and the cost of checking 100,000 market
 * alerts per forming update (./alerts.ts). Each server runs in its own process; the
 * subscribers are raw ws clients in two more. Figures are printed and written to RESULTS.md,
 * never asserted. Quick: `BENCH_N=200 BENCH_BURST_EVENTS=20 BENCH_LIGHT_EVENTS=3 npm run bench`.
 * Also: BENCH_TARGETS (e.g. `hubcast,socketio`), BENCH_REPS (medians), BENCH_STALL=0 (skip the
 * slow-client burst), BENCH_STALL_SUBS (its subscriptions on Hubcast, default 200: with fewer
 * burst events it needs more to be cut), BENCH_WRITE=0 (leave RESULTS.md alone), BENCH_SERVER_NODE_ARGS (e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`), BENCH_HEAP_SNAPSHOT=<file> (heap snapshot of the idle server),
 * BENCH_MANY (connections of the many-series scenario, ./many.ts, default 20000; 0 skips it).
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { nowMs, STALL_SUBSCRIPTIONS } from './event';
import { latencies, pct, Proc, sleep, waitFor } from './procs';
import type { Target } from './server';
import type { Recovery } from './stalled';
import { medianResult, STALL_NOTE, table, type Restart, type Result, type Stall } from './report';
import { writeResultsSection } from './results-file';
import { alertsSection, benchAlerts } from './alerts';
import { MANY, manySection, measureMany } from './many';
import { BURST, BURST_RATE, env, LIGHT, NS, READ_AFTER_CUT_MS, REPS, RESUME_MISSED, STALL, TARGETS } from './settings';

const serverArgv = (env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

async function measure(target: Target, n: number): Promise<Result> {
  // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the servers.
  const server = Proc.start('server.ts', [target], serverArgv);
  const { url, token } = await server.next<{ url: string; token?: string }>();
  const base = await server.ask<{ rss: number; heapUsed: number }>({ cmd: 'mem' });
  const clients = [Proc.start('clients.ts', []), Proc.start('clients.ts', [])];
  await Promise.all(clients.map((c) => c.next()));
  try {
    const half = [Math.ceil(n / 2), Math.floor(n / 2)];
    const { tokens } = await server.ask<{ tokens: string[] }>({ cmd: 'tokens', count: n });
    const parts = [tokens.slice(0, half[0]), tokens.slice(half[0])];
    // Connect-and-subscribe: every client at once (200 handshakes in flight per process), each
    // with its own token, until each has its subscription confirmed, as after a deploy.
    const connectCpu0 = await server.ask<{ user: number; system: number }>({ cmd: 'cpu' });
    const c0 = nowMs();
    const connected = await Promise.all(
      clients.map((c, i) =>
        c.ask<{ refused?: string }>({ cmd: 'connect', target, url, token, tokens: parts[i], count: half[i]! }),
      ),
    );
    const connectMs = nowMs() - c0;
    const refused = connected.find((r) => r.refused)?.refused;
    if (refused) throw new Error(`${target}: a subscriber was refused (${refused})`);
    const deadline = Date.now() + 120_000;
    while ((await server.ask<{ n: number }>({ cmd: 'subscribers' })).n < n) {
      if (Date.now() > deadline) throw new Error(`${target}: fewer than ${n} subscribers joined within 2 minutes`);
      await sleep(200);
    }
    const connectCpu1 = await server.ask<{ user: number; system: number }>({ cmd: 'cpu' });
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
    const restart = target === 'hubcast' && RESUME_MISSED > 0 ? await restartAndResume(server, clients, n) : undefined;
    const delivered = burst.all.length;
    // Divide by what was written, where the server counts it.
    const written = cpu1.sent !== null && cpu0.sent !== null ? cpu1.sent - cpu0.sent : delivered;
    return {
      connectMs,
      connectCpuMsPerClient: cpuMs(connectCpu0, connectCpu1) / n,
      restart,
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

/** Server CPU (user and system) between two `cpu` answers, in ms: what the work cost, however busy the machine. */
const cpuMs = (a: { user: number; system: number }, b: { user: number; system: number }) =>
  (b.user - a.user + b.system - a.system) / 1000;

/**
 * After a deploy: RESUME_MISSED closed candles are stored while nobody is told (as if the bus
 * had dropped them), the server restarts on the same database and port, and every client
 * reconnects, resuming from the last stored event it got, as a page does: all it must get back
 * are the candles stored since.
 */
async function restartAndResume(server: Proc, clients: Proc[], n: number): Promise<Restart> {
  const { ids } = await server.ask<{ ids: number[] }>({ cmd: 'restart', missed: RESUME_MISSED });
  const { url } = await server.ask<{ url: string }>({ cmd: 'url' });
  const cpu0 = await server.ask<{ user: number; system: number }>({ cmd: 'cpu' });
  const t0 = nowMs();
  const parts = await Promise.all(
    clients.map((c) =>
      c.ask<{ resumed: number; replayed: number; missing: number; repeated: number; wanted: number }>({
        cmd: 'resume',
        url,
        ids,
        waitMs: 120_000,
      }),
    ),
  );
  const ms = nowMs() - t0;
  const cpu1 = await server.ask<{ user: number; system: number }>({ cmd: 'cpu' });
  const sum = (f: (p: (typeof parts)[number]) => number) => parts.reduce((a, p) => a + f(p), 0);
  return {
    ms,
    cpuMsPerClient: cpuMs(cpu0, cpu1) / n,
    clients: n,
    resumed: sum((p) => p.resumed),
    perClient: sum((p) => p.wanted) / n,
    replayed: sum((p) => p.replayed),
    missing: sum((p) => p.missing),
    repeated: sum((p) => p.repeated),
  };
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
// In process and first, before the servers load the machine: a second or two.
const alerts = alertsSection(benchAlerts());
console.log(`\n${alerts}\n`);
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
if (TARGETS.includes('hubcast') && MANY > 0) {
  console.log(`hubcast, many series, N = ${MANY}…`);
  const section = manySection(await measureMany(serverArgv));
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
  alerts,
  '',
].join('\n');
if (env.BENCH_WRITE !== '0') writeResultsSection(doc);
if (STALL) console.log(`${STALL_NOTE}\n`);
console.log(`written to tests/bench/RESULTS.md (${machine})`);
process.exit(0);
