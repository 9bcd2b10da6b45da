/** The bench's figures as the tables RESULTS.md holds: medians over runs, rows, ratios. */
import { STALL_SUBSCRIPTIONS } from './event';
import type { Target } from './server';
import { BURST, BURST_RATE, LIGHT, READ_AFTER_CUT_MS, TARGETS } from './settings';
import type { Recovery } from './stalled';

export interface Result {
  bytes?: number;
  /** N clients connect, each authenticates with its own token and starts one subscription: until the last is confirmed. */
  connectMs: number;
  /** Server CPU (user + system) from the first connect to the last subscription, per client. */
  connectCpuMsPerClient: number;
  /** Hubcast: the server restarted, the same clients reconnected and resumed from their last ids. */
  restart?: Restart;
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

export interface Restart {
  ms: number;
  /** Server CPU from the first reconnect to the last resumed, per client. */
  cpuMsPerClient: number;
  clients: number;
  /** Clients that got every stored event after their last id. */
  resumed: number;
  /** Stored events each had to get back. */
  perClient: number;
  replayed: number;
  missing: number;
  repeated: number;
}

export interface Stall {
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

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export function medianResult(rs: Result[]): Result {
  if (rs.length === 1) return rs[0]!;
  const m = (f: (r: Result) => number) => median(rs.map(f));
  return {
    connectMs: m((r) => r.connectMs),
    connectCpuMsPerClient: m((r) => r.connectCpuMsPerClient),
    restart: rs.at(-1)!.restart,
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

export function table(n: number, r: Partial<Record<Target, Result>>) {
  const cols = TARGETS.filter((t) => r[t]);
  const row = (label: string, f: (x: Result) => string) => `| ${label} | ${cols.map((t) => f(r[t]!)).join(' | ')} |`;
  const lines = [
    `### N = ${n.toLocaleString('en')} subscribers`,
    '',
    `| | ${cols.join(' | ')} |`,
    `|---|${cols.map(() => '---').join('|')}|`,
    row(
      `connect-and-subscribe: ${n} clients, each with its own token, connect, authenticate and start one subscription (s)`,
      (x) => (x.connectMs / 1000).toFixed(2),
    ),
    row('… server CPU per client while connecting (ms)', (x) => x.connectCpuMsPerClient.toFixed(2)),
    row(
      'restart and resume: the server restarts, the same clients reconnect resuming from their last ids (s); resumed, events replayed, missed',
      (x) => (x.restart ? restartCell(x.restart) : '–'),
    ),
    row('… server CPU per client while resuming (ms)', (x) => (x.restart ? x.restart.cpuMsPerClient.toFixed(2) : '–')),
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
        `Hubcast vs ${other}: connect-and-subscribe ${ratio(h.connectMs, o.connectMs)}, deliveries/s ${ratio(h.deliveriesPerSec, o.deliveriesPerSec)}, p99 at 1/s ${ratio(h.light.p99, o.light.p99)}, ` +
          `p99 at saturation ${ratio(h.burst.p99, o.burst.p99)}, CPU per delivery ${ratio(h.cpuUsPerDelivery, o.cpuUsPerDelivery)}`,
      );
    }
  }
  return lines.join('\n');
}

function restartCell(r: Restart) {
  return (
    `${(r.ms / 1000).toFixed(2)}; ${r.resumed}/${r.clients} resumed, ${r.replayed} replayed (${+r.perClient.toFixed(1)} each), ` +
    `${r.missing} missed${r.repeated ? `, ${r.repeated} repeated` : ''}`
  );
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
export const STALL_NOTE =
  `The slow client: one more WebSocket that stops reading (its socket paused) before the saturation burst is sent again. ` +
  `Loopback's socket buffers absorb ~4 MB of a paused reader's traffic before a server holds any, and one subscription's share of the burst is ~56 KB, ` +
  `so on Hubcast it holds ${STALL_SUBSCRIPTIONS} market.live subscriptions on that one socket (the bench server allows ${Math.max(100, STALL_SUBSCRIPTIONS)} per socket; ` +
  `WS_MAX_BUFFERED_BYTES stays at its 4 MB default): ~${((STALL_SUBSCRIPTIONS * BURST * 575) / 2 ** 20).toFixed(0)} MB, past the kernel's share plus that bound. ` +
  `The burst's candles are stored first, as closed candles are, so that once cut it reads again (when the others have the whole burst, at most ${READ_AFTER_CUT_MS / 1000} s after the cut: its own catching up runs on this machine too), ` +
  `sees the close code, reconnects and resumes every subscription from the last tracked id it got (tRPC lastEventId); ` +
  `the row after shows what it got back. On Socket.IO and bare ws it is one more room member / socket (no bound, no subscriptions to multiply). ` +
  `Its twin is the same client (same subscriptions, same stored burst) reading normally: on Hubcast at N = 1,000 its ${STALL_SUBSCRIPTIONS} subscriptions are ` +
  `${Math.round((STALL_SUBSCRIPTIONS / 1000) * 100)} % more deliveries on a saturated 2-core machine, so comparing the stall with its twin separates what stalling costs from that load.`;
