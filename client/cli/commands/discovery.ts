import type { Token } from '../../../shared/discovery';
import type { StreamEvent } from '../../../server/modules/discovery/store';
import type { Command } from '../command';
import { followSubscription, httpApi, type CliContext } from '../session';

const money = (n: number | null) => (n == null ? '-' : `$${n >= 1 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3)}`);

function tokenLine(t: Token) {
  const verdict = !t.verified ? 'UNVERIFIED' : t.isSafe ? 'safe' : 'RISKY';
  return `${t.chain.padEnd(9)} ${t.symbol.padEnd(8)} ${verdict.padEnd(10)} risk ${String(t.riskScore).padStart(3)}  liq ${money(t.liquidityUsd).padEnd(10)} ${t.name}  ${t.url ?? ''}${t.risks.length ? `\n          - ${t.risks.join('\n          - ')}` : ''}`;
}

function eventLine(e: StreamEvent): string {
  switch (e.type) {
    case 'new_token':
      return `[${e.progress.checked}/${e.progress.total}] ${tokenLine(e.token)}`;
    case 'scan_started':
      return `scan ${e.scanId} started by ${e.triggeredBy === 'auto' ? 'auto-discovery' : 'a user'} (up to ${e.maxTokens} tokens${e.chain ? ` on ${e.chain}` : ''})`;
    case 'scan_completed':
      return `scan ${e.scanId} done in ${(e.durationMs / 1000).toFixed(1)} s: ${e.counts.newTokens} new, ${e.counts.updatedTokens} updated, ${e.counts.safe} safe, ${e.counts.risky} risky, ${e.counts.unverified} unverified`;
    case 'scan_error':
      return `scan ${e.scanId} failed: ${e.message}`;
    case 'discovery_status':
      return `auto-discovery ${e.autoDiscoveryActive ? `on, every ${e.autoDiscoveryInterval} s, ${e.autoDiscoveryMaxTokens} tokens` : 'off'}`;
  }
}

/** Streams discovery events until `onEvent` returns true or Ctrl-C. */
function follow(ctx: CliContext, signal: AbortSignal, opts: { lastEventId?: string; onStarted?: () => void; onEvent: (e: StreamEvent) => boolean | void }) {
  return followSubscription(ctx, signal, (api, handlers) => api.discovery.events.subscribe(opts.lastEventId ? { lastEventId: opts.lastEventId } : undefined, handlers), {
    onStarted: opts.onStarted,
    onData: (d) => opts.onEvent((d as { data: StreamEvent }).data),
  });
}

const flag = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);

/**
 * `discovery trigger [--max=20] [--chain=solana] [--page=<dexscreener token page>]`: starts (or joins) a scan
 * and prints its tokens as they are checked; `discovery status`; `discovery recent [--limit=20] [--chain=x]`;
 * `discovery watch [--json] [--from=<eventId>]` follows every scan live.
 */
export const discoveryCommand: Command = {
  name: 'discovery',
  usage: 'discovery trigger [--max=N] [--chain=ID] [--page=DEXSCREENER_URL] | status | recent [--limit=N] [--chain=ID] | watch [--json] [--from=EVENT_ID]',
  async run({ ctx, args, flags, signal, print }) {
    const [sub] = args;
    const http = httpApi(ctx);
    const out = (e: StreamEvent) => (flags.json ? print(e) : console.log(eventLine(e)));
    if (sub === 'status') return { ...(await http.discovery.status.query()), ...(await http.discovery.stats.query()) };
    if (sub === 'recent') {
      const limit = flag(flags.limit) ? Number(flags.limit) : 20;
      const { tokens } = await http.discovery.recent.query({ limit, chain: flag(flags.chain) });
      if (flags.json) return tokens;
      for (const t of tokens) console.log(tokenLine(t));
      return;
    }
    if (sub === 'watch') return follow(ctx, signal, { lastEventId: flag(flags.from), onEvent: (e) => void out(e) });
    if (sub !== 'trigger') throw new Error('Usage: npm run cli -- discovery trigger|status|recent|watch');

    const maxTokens = flag(flags.max) ? Number(flags.max) : undefined;
    let scanId: number | null = null;
    // Our scan's first events can beat the trigger's HTTP answer: hold them until we know its id.
    const early: StreamEvent[] = [];
    const mine = (e: StreamEvent) => {
      if (!('scanId' in e) || e.scanId !== scanId) return false;
      out(e);
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
    const res = await http.discovery.trigger.mutate({ maxTokens, chain: flag(flags.chain), profileUrl: flag(flags.page) });
    scanId = res.scanId;
    console.log(res.joined ? `joined scan ${scanId}, already running` : `started scan ${scanId}`);
    // Stop early if the held events already include the end (a quick scan).
    if (early.splice(0).some(mine)) return;
    await done;
  },
};
