import type { DiscoveryStatus, Token } from '../../../shared/discovery';
import type { StreamEvent } from '../../../server/modules/discovery/store';
import type { Command } from '../command';
import { localTime, table, view } from '../render';
import { followSubscription, httpApi, type CliContext } from '../session';

const money = (n: number | null) =>
  n == null ? '-' : `$${n >= 1 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3)}`;

const VERDICT = { safe: 'safe', risky: 'RISKY', unverified: 'UNVERIFIED' } as const;

function tokenLine(t: Token) {
  const verdict = VERDICT[t.verdict];
  return `${t.chain.padEnd(9)} ${t.symbol.padEnd(8)} ${verdict.padEnd(10)} risk ${String(t.riskScore).padStart(3)}  liq ${money(t.liquidityUsd).padEnd(10)} ${t.name}  ${t.url ?? ''}${t.risks.length ? `\n          - ${t.risks.join('\n          - ')}` : ''}`;
}

function eventLine(e: StreamEvent): string {
  switch (e.type) {
    case 'new_token':
      return `new ${tokenLine(e.token)}`;
    case 'scan_started':
      return `scan ${e.scanId} started by ${e.triggeredBy === 'auto' ? 'auto-discovery' : 'a user'} (up to ${e.maxTokens} tokens${e.chain ? ` on ${e.chain}` : ''})`;
    case 'scan_progress':
      return `scan ${e.scanId}: ${e.checked} of ${e.total} checked, ${e.counts.newTokens} new`;
    case 'scan_completed':
      return `scan ${e.scanId} done in ${(e.durationMs / 1000).toFixed(1)} s: ${e.counts.newTokens} new, ${e.counts.updatedTokens} updated, ${e.counts.safe} safe, ${e.counts.risky} risky, ${e.counts.unverified} unverified`;
    case 'scan_error':
      return `scan ${e.scanId} failed: ${e.message}`;
    case 'discovery_status':
      return `auto-discovery ${e.autoDiscoveryActive ? `on, every ${e.autoDiscoveryInterval} s, ${e.autoDiscoveryMaxTokens} tokens` : 'off'}`;
  }
}

function statusText(
  s: DiscoveryStatus & {
    safeTokens: number;
    riskyTokens: number;
    unverifiedTokens: number;
    databaseUsagePercent: number;
  },
) {
  const last = s.lastScan;
  const lastText = !last
    ? 'none finished yet'
    : last.outcome === 'completed'
      ? `scan ${last.scanId} completed ${localTime(last.finishedAt)}: ${last.candidates} checked, ${last.newTokens} new`
      : `scan ${last.scanId} FAILED ${localTime(last.finishedAt)}: ${last.error ?? 'no reason recorded'}`;
  const rows: Array<[string, string]> = [
    ['scanning', s.scanning ? `yes (scan ${s.currentScanId})` : 'no'],
    ['last scan', lastText],
    ['scans', String(s.totalScans)],
    ['tokens stored', `${s.tokensInDatabase} / ${s.databaseCapacity} (${s.databaseUsagePercent}%)`],
    ['safe / risky / unverified', `${s.safeTokens} / ${s.riskyTokens} / ${s.unverifiedTokens}`],
    [
      'auto-discovery',
      s.autoDiscoveryActive ? `on, every ${s.autoDiscoveryInterval} s, ${s.autoDiscoveryMaxTokens} tokens` : 'off',
    ],
  ];
  return rows.map(([k, v]) => `${k.padEnd(26)}${v}`).join('\n');
}

const checkedTable = (rows: Array<{ token: Token; isNew: boolean }>) =>
  table(
    rows,
    [
      { header: '', value: (r) => (r.isNew ? 'new' : 'known') },
      { header: 'chain', value: (r) => r.token.chain },
      { header: 'symbol', value: (r) => r.token.symbol, max: 12 },
      { header: 'verdict', value: (r) => VERDICT[r.token.verdict] },
      { header: 'risk', value: (r) => r.token.riskScore, right: true },
      { header: 'liquidity', value: (r) => money(r.token.liquidityUsd), right: true },
      { header: 'name', value: (r) => r.token.name, max: 28 },
      { header: 'main reason', value: (r) => r.token.risks[0] ?? '', max: 60 },
    ],
    'No token checked.',
  );

/** Streams discovery events until `onEvent` returns true or Ctrl-C. */
function follow(
  ctx: CliContext,
  signal: AbortSignal,
  opts: { lastEventId?: string; onStarted?: () => void; onEvent: (e: StreamEvent) => boolean | void },
) {
  return followSubscription(
    ctx,
    signal,
    (api, handlers) =>
      api.discovery.events.subscribe(opts.lastEventId ? { lastEventId: opts.lastEventId } : undefined, handlers),
    {
      onStarted: opts.onStarted,
      onData: (d) => opts.onEvent((d as { data: StreamEvent }).data),
    },
  );
}

const flag = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);

/**
 * `discovery trigger [--max=20] [--chain=solana] [--page=<dexscreener token page>]`: starts (or joins) a scan,
 * shows its progress, then every token it checked, once (new and already known); `discovery status`;
 * `discovery recent [--limit=20] [--chain=x]`; `discovery watch [--from=<eventId>]` follows every scan live.
 * --json prints the raw values (events as JSON lines).
 */
export const discoveryCommand: Command = {
  name: 'discovery',
  usage:
    'discovery trigger [--max=N] [--chain=ID] [--page=DEXSCREENER_URL] | status | recent [--limit=N] [--chain=ID] | watch [--from=EVENT_ID]   (--json)',
  async run({ ctx, args, flags, signal, print }) {
    const [sub] = args;
    const http = httpApi(ctx);
    const out = (e: StreamEvent) => (flags.json ? print(e) : console.log(eventLine(e)));
    if (sub === 'status') {
      const both = { ...(await http.discovery.status.query()), ...(await http.discovery.stats.query()) };
      return view(both, statusText(both));
    }
    if (sub === 'recent') {
      const limit = flag(flags.limit) ? Number(flags.limit) : 20;
      const { tokens } = await http.discovery.recent.query({ limit, chain: flag(flags.chain) });
      return view(
        tokens,
        tokens.length ? tokens.map(tokenLine).join('\n') : 'No tokens discovered yet: discovery trigger',
      );
    }
    if (sub === 'watch') return follow(ctx, signal, { lastEventId: flag(flags.from), onEvent: (e) => void out(e) });
    if (sub !== 'trigger') throw new Error('Usage: npm run cli -- discovery trigger|status|recent|watch');

    const maxTokens = flag(flags.max) ? Number(flags.max) : undefined;
    let scanId: number | null = null;
    let shown = -1;
    // Live: one progress line per checked batch (each batch's new tokens share its count);
    // the tokens themselves are listed once, at the end.
    const progress = (e: StreamEvent) => {
      if (flags.json) return print(e);
      if (e.type === 'new_token') {
        if (e.progress.checked !== shown) console.log(`checked ${e.progress.checked} of ${e.progress.total}…`);
        shown = e.progress.checked;
      } else console.log(eventLine(e));
    };
    // Our scan's first events can beat the trigger's HTTP answer: hold them until we know its id.
    const early: StreamEvent[] = [];
    const mine = (e: StreamEvent) => {
      if (!('scanId' in e) || e.scanId !== scanId) return false;
      progress(e);
      return e.type === 'scan_completed' || e.type === 'scan_error';
    };
    // Subscribe first so no event of our scan can slip by between the trigger and the stream.
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const done = follow(ctx, signal, {
      onStarted: ready,
      onEvent: (e) => (scanId === null ? void early.push(e) : mine(e)),
    });
    await started;
    const res = await http.discovery.trigger.mutate({
      maxTokens,
      chain: flag(flags.chain),
      profileUrl: flag(flags.page),
    });
    scanId = res.scanId;
    if (!flags.json) console.log(res.joined ? `joined scan ${scanId}, already running` : `started scan ${scanId}`);
    // Stop early if the held events already include the end (a quick scan).
    if (!early.splice(0).some(mine)) await done;
    if (signal.aborted) return;
    const checked = await http.discovery.scanTokens.query({ scanId });
    if (checked.status === 'failed') process.exitCode = 1;
    // --json: one more JSON line after the events.
    if (flags.json) return void print(checked);
    if (checked.status !== 'failed' || checked.tokens.length) console.log(checkedTable(checked.tokens));
  },
};
