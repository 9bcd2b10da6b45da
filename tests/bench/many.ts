/**
 * The shape of a real market page at scale (issue #21, part 4): one Hubcast instance, N
 * subscribed connections spread over 50 series, each series updated every 1–2 s as Binance
 * does. Connect time, memory per connection after GC as the minutes pass (it must stay flat),
 * deliveries/s, latency and event-loop delay. Clients in four processes. Hubcast only: the
 * peers' bench servers broadcast one series.
 */
import { execSync } from 'node:child_process';
import { MANY_SYMBOLS } from './event';
import { latencies, pct, Proc, sleep, waitFor } from './procs';
import { env } from './settings';

/** Connections wanted; capped below the open-file limit, which the server's process must hold them under. */
export const MANY = Number(env.BENCH_MANY ?? 20_000);
const WINDOWS = Number(env.BENCH_MANY_WINDOWS ?? 3);
const WINDOW_SECONDS = Number(env.BENCH_MANY_WINDOW_S ?? 20);
const CLIENT_PROCS = 4;

interface Mem {
  rss: number;
  heapUsed: number;
}

export interface Many {
  wanted: number;
  n: number;
  fileLimit: number;
  connectMs: number;
  connectCpuMsPerClient: number;
  /** Heap and RSS per connection after GC: idle, then after each publishing window. */
  perConn: { label: string; heapKB: number; rssKB: number }[];
  published: number;
  delivered: number;
  expected: number;
  deliveriesPerSec: number;
  p50: number;
  p99: number;
  max: number;
  loopP99Ms: number;
  loopMaxMs: number;
  cuts: number;
}

function openFileLimit(): number {
  try {
    return Number(execSync('ulimit -n', { shell: '/bin/bash' }).toString().trim()) || Infinity;
  } catch {
    return Infinity;
  }
}

export async function measureMany(serverArgv: string[]): Promise<Many> {
  const fileLimit = openFileLimit();
  // The server also holds its listening socket, the fake exchange's and PGlite's files.
  const n = Math.min(MANY, fileLimit - 300);
  const server = Proc.start('server.ts', ['hubcast'], serverArgv);
  const { url } = await server.next<{ url: string }>();
  const base = await server.ask<Mem>({ cmd: 'mem' });
  const clients = Array.from({ length: CLIENT_PROCS }, () => Proc.start('clients.ts', []));
  await Promise.all(clients.map((c) => c.next()));
  try {
    const counts = clients.map((_, i) => Math.floor(n / CLIENT_PROCS) + (i < n % CLIENT_PROCS ? 1 : 0));
    const { tokens } = await server.ask<{ tokens: string[] }>({ cmd: 'tokens', count: n });
    // Socket j of each process subscribes to MANY_SYMBOLS[j % 50]: this many per series.
    const perSeries = MANY_SYMBOLS.map((_, s) =>
      counts.reduce((a, c) => a + Math.floor(c / MANY_SYMBOLS.length) + (s < c % MANY_SYMBOLS.length ? 1 : 0), 0),
    );
    const cpu0 = await server.ask<{ user: number; system: number }>({ cmd: 'cpu' });
    const t0 = performance.now();
    let offset = 0;
    const connected = await Promise.all(
      clients.map((c, i) => {
        const mine = tokens.slice(offset, (offset += counts[i]!));
        return c.ask<{ refused?: string }>({
          cmd: 'connect',
          target: 'hubcast',
          url,
          tokens: mine,
          count: mine.length,
          symbols: MANY_SYMBOLS,
        });
      }),
    );
    const refused = connected.find((r) => r.refused)?.refused;
    if (refused) throw new Error(`many series: a subscriber was refused (${refused})`);
    const deadline = Date.now() + 180_000;
    while ((await server.ask<{ n: number }>({ cmd: 'subscribers' })).n < n) {
      if (Date.now() > deadline) throw new Error(`many series: fewer than ${n} subscribers joined within 3 minutes`);
      await sleep(200);
    }
    const connectMs = performance.now() - t0;
    const cpu1 = await server.ask<{ user: number; system: number; cuts: number }>({ cmd: 'cpu' });
    await sleep(1000);
    const perConn: Many['perConn'] = [];
    const sample = async (label: string) => {
      const m = await server.ask<Mem>({ cmd: 'mem' });
      perConn.push({
        label,
        heapKB: (m.heapUsed - base.heapUsed) / n / 1024,
        rssKB: (m.rss - base.rss) / n / 1024,
      });
    };
    await sample('idle');
    await Promise.all(clients.map((c) => c.ask({ cmd: 'reset' })));
    let published = 0;
    let expected = 0;
    let loopP99Ms = 0;
    let loopMaxMs = 0;
    let pacedMs = 0;
    for (let w = 1; w <= WINDOWS; w++) {
      const p0 = performance.now();
      const r = await server.ask<{ published: number; perSymbol: number[]; loopP99Ms: number; loopMaxMs: number }>({
        cmd: 'pace',
        symbols: MANY_SYMBOLS,
        seconds: WINDOW_SECONDS,
        minMs: 1000,
        maxMs: 2000,
      });
      pacedMs += performance.now() - p0;
      published += r.published;
      expected += r.perSymbol.reduce((a, k, s) => a + k * perSeries[s]!, 0);
      loopP99Ms = Math.max(loopP99Ms, r.loopP99Ms);
      loopMaxMs = Math.max(loopMaxMs, r.loopMaxMs);
      await waitFor(clients, expected, 2000, 30_000);
      await sample(`after ${w * WINDOW_SECONDS} s of updates`);
    }
    const got = await latencies(clients);
    const { cuts } = await server.ask<{ cuts: number }>({ cmd: 'cpu' });
    return {
      wanted: MANY,
      n,
      fileLimit,
      connectMs,
      connectCpuMsPerClient: (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / 1000 / n,
      perConn,
      published,
      delivered: got.all.length,
      expected,
      deliveriesPerSec: got.all.length / (pacedMs / 1000),
      p50: pct(got.all, 50),
      p99: pct(got.all, 99),
      max: got.all.at(-1) ?? NaN,
      loopP99Ms,
      loopMaxMs,
      cuts: Math.max(cuts, got.closes),
    };
  } finally {
    for (const c of clients) c.stop();
    server.stop();
    await sleep(1500);
  }
}

export function manySection(r: Many): string {
  const capped =
    r.n < r.wanted
      ? ` (${r.wanted.toLocaleString('en')} wanted; this machine allows ${r.fileLimit.toLocaleString('en')} open files per process, and each connection is one)`
      : '';
  return [
    `### Many series: ${r.n.toLocaleString('en')} connections over ${MANY_SYMBOLS.length} series, one instance`,
    '',
    `Each connection subscribes to one of ${MANY_SYMBOLS.length} 1m series${capped}; each series gets an update every 1–2 s, as Binance sends them, for ${WINDOWS} × ${WINDOW_SECONDS} s. Clients in ${CLIENT_PROCS} processes. Hubcast only: the peers' bench servers broadcast one series.`,
    '',
    '| | hubcast |',
    '|---|---|',
    `| connect-and-subscribe, all at once (s) | ${(r.connectMs / 1000).toFixed(2)} |`,
    `| … server CPU per client while connecting (ms) | ${r.connectCpuMsPerClient.toFixed(2)} |`,
    ...r.perConn.map(
      (m) =>
        `| memory per connection after GC, ${m.label}: heap / RSS (KB) | ${m.heapKB.toFixed(1)} / ${m.rssKB.toFixed(1)} |`,
    ),
    `| updates published; deliveries delivered / expected | ${r.published}; ${r.delivered} / ${r.expected} |`,
    `| deliveries/s | ${r.deliveriesPerSec.toFixed(0)} |`,
    `| latency p50 / p99 / max (ms) | ${r.p50.toFixed(1)} / ${r.p99.toFixed(1)} / ${r.max.toFixed(1)} |`,
    `| event-loop delay while publishing, p99 / max (ms) | ${r.loopP99Ms.toFixed(1)} / ${r.loopMaxMs.toFixed(1)} |`,
    `| connections cut | ${r.cuts} |`,
  ].join('\n');
}
