import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useMemo, useState } from 'react';
import { toast } from 'sonner';
import {
  DISCOVERY_CAPACITY,
  SAFE_BELOW,
  UNVERIFIED_FLOOR,
  type DiscoveryEvent,
  type Token,
} from '../../../../shared/discovery';
import { isResumePoint } from '../../../../shared/system';
import { useTRPC } from '../../trpc';
import { StatusPanel } from './StatusPanel';
import { TokenGrid } from './TokenGrid';
import './discovery.css';

interface Progress {
  scanId: number;
  checked: number;
  total: number | null;
  found: number;
}

const newestFirst = (a: Token, b: Token) => b.discoveredAt.getTime() - a.discoveredAt.getTime() || b.id - a.id;

export default function DiscoveryPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions());
  const recent = useQuery(trpc.discovery.recent.queryOptions({ limit: DISCOVERY_CAPACITY }));
  const status = useQuery(trpc.discovery.status.queryOptions());
  const [live, setLive] = useState<Token[]>([]);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [chain, setChain] = useState('');

  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: trpc.discovery.status.queryKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.discovery.stats.queryKey() });
  };

  const stream = useSubscription(
    trpc.discovery.events.subscriptionOptions(undefined, {
      onData: ({ data }) => {
        if (isResumePoint(data)) return;
        const e = data as DiscoveryEvent;
        if (e.type === 'new_token') {
          setLive((l) => [e.token, ...l.filter((t) => t.id !== e.token.id)].slice(0, DISCOVERY_CAPACITY));
          setProgress((p) => ({
            scanId: e.scanId,
            checked: e.progress.checked,
            total: e.progress.total,
            found: (p?.scanId === e.scanId ? p.found : 0) + 1,
          }));
        } else if (e.type === 'scan_started') {
          setProgress({ scanId: e.scanId, checked: 0, total: null, found: 0 });
          refresh();
        } else if (e.type === 'scan_completed') {
          setProgress(null);
          toast.success(
            `Scan finished: ${e.counts.newTokens} new token${e.counts.newTokens === 1 ? '' : 's'}, ${e.counts.risky} risky`,
          );
          refresh();
        } else if (e.type === 'scan_error') {
          setProgress(null);
          toast.error(e.message);
          refresh();
        } else refresh();
      },
    }),
  );

  const trigger = useMutation(
    trpc.discovery.trigger.mutationOptions({
      onSuccess: (r) =>
        toast(r.joined ? `Joined the scan already running (#${r.scanId})` : `Scan #${r.scanId} started`),
      onError: (err) => toast.error(err.message),
    }),
  );

  // Stored tokens plus the ones pushed live since, one per id, newest first.
  const tokens = useMemo(() => {
    const byId = new Map<number, Token>();
    for (const t of [...(recent.data?.tokens ?? []), ...live]) byId.set(t.id, t);
    return [...byId.values()].sort(newestFirst).slice(0, DISCOVERY_CAPACITY);
  }, [recent.data, live]);
  const chains = useMemo(() => [...new Set(tokens.map((t) => t.chain))].sort(), [tokens]);
  const shown = chain ? tokens.filter((t) => t.chain === chain) : tokens;
  const scanning = progress !== null || (status.data?.scanning ?? false);

  return (
    <section className="discovery">
      <header className="discovery-head">
        <div>
          <h1>Token discovery</h1>
          <p className="muted">One shared scan for everyone: new tokens appear here as soon as they are checked.</p>
        </div>
        <div className="discovery-actions">
          <label>
            Chain{' '}
            <select value={chain} onChange={(e) => setChain(e.target.value)} aria-label="Chain filter">
              <option value="">All chains</option>
              {chains.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
          <button
            className="primary"
            data-testid="discovery-scan-now"
            disabled={trigger.isPending}
            onClick={() => trigger.mutate({})}
          >
            {scanning ? 'Join scan' : 'Scan now'}
          </button>
        </div>
      </header>
      {scanning && (
        <div className="scan-progress" data-testid="discovery-progress" role="status">
          <progress max={progress?.total ?? undefined} value={progress?.total ? progress.checked : undefined} />
          <span>
            Scanning{progress?.total ? `: ${progress.checked} of ${progress.total} checked` : '…'}
            {progress?.found ? `, ${progress.found} new` : ''}
          </span>
        </div>
      )}
      <details className="risk-help" data-testid="risk-help">
        <summary>How the risk score works</summary>
        <p>
          Each token gets a score from 0 (nothing found) to 100 (avoid), from its GoPlus security report and DexScreener
          market data. Findings add points: a honeypot or a sell block 100, a sell tax over 50% 50, unverified source
          code 35, an owner who can change balances 30, few holders or thin liquidity 10–15. Press a token's badge to
          see its findings.
        </p>
        <ul>
          <li>
            <span className="badge good">Safe</span> checked, no critical finding and a score under {SAFE_BELOW}.
          </li>
          <li>
            <span className="badge bad">Risky</span> a critical finding (honeypot, cannot sell, sell tax over 50%) or a
            score of {SAFE_BELOW} or more.
          </li>
          <li>
            <span className="badge warn">Unverified</span> the security check failed or did not report a core fact
            (honeypot, taxes, sell limits, source; on Solana the authorities). Unknown is not safe: these score at least{' '}
            {UNVERIFIED_FLOOR}.
          </li>
        </ul>
      </details>
      {stream.status === 'error' && (
        <p className="error">Live updates stopped: {stream.error?.message}. Reload to retry.</p>
      )}
      <div className="discovery-body">
        <div>
          {recent.isPending ? (
            <p className="loading">Loading tokens…</p>
          ) : recent.isError ? (
            <div className="empty-state">
              <p className="error">Could not load tokens: {recent.error.message}</p>
              <button onClick={() => void recent.refetch()}>Try again</button>
            </div>
          ) : shown.length === 0 ? (
            <div className="empty-state" data-testid="discovery-empty">
              <p>{chain ? `No ${chain} tokens yet.` : 'No tokens discovered yet.'}</p>
              <p>Press “Scan now” to run the first scan; everyone here will see the results.</p>
            </div>
          ) : (
            <TokenGrid tokens={shown} />
          )}
        </div>
        <StatusPanel status={status.data} isAdmin={me.data?.role === 'admin'} />
      </div>
    </section>
  );
}
