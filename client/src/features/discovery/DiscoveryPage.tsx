import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useMemo, useState } from 'react';
import { toast } from 'sonner';
import { DISCOVERY_CAPACITY, type DiscoveryEvent, type Token } from '../../../../shared/discovery';
import { isResumePoint } from '../../../../shared/system';
import { useTRPC } from '../../trpc';
import { RiskHelp } from './RiskHelp';
import { StatusPanel } from './StatusPanel';
import { TokenFilters } from './TokenFilters';
import { TokenGrid } from './TokenGrid';
import { TokenTable } from './TokenTable';
import { applyQuery, useTokenQuery } from './token-view';
import { Watching } from '../presence/Presence';
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
  const view = useTokenQuery();

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
        } else if (e.type === 'scan_progress') {
          setProgress({ scanId: e.scanId, checked: e.checked, total: e.total, found: e.counts.newTokens });
          // The status panel's figures are the database's: re-read them as each batch is stored.
          refresh();
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

  // The scan this page started or joined: pressing again would only join it once more.
  const [myScan, setMyScan] = useState<number | null>(null);
  const trigger = useMutation(
    trpc.discovery.trigger.mutationOptions({
      onSuccess: (r) => {
        setMyScan(r.scanId);
        toast(r.joined ? `Joined the scan already running (#${r.scanId})` : `Scan #${r.scanId} started`);
      },
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
  const shown = useMemo(() => applyQuery(tokens, view.query), [tokens, view.query]);
  const scanning = progress !== null || (status.data?.scanning ?? false);
  const currentScan = progress?.scanId ?? status.data?.currentScanId ?? null;
  const inScan = trigger.isPending || (scanning && myScan !== null && myScan === currentScan);

  return (
    <section className="discovery">
      <header className="discovery-head">
        <div>
          <h1>Token discovery</h1>
          <p className="muted">One shared scan for everyone: new tokens appear here as soon as they are checked.</p>
        </div>
        <div className="discovery-actions">
          <Watching room="discovery" />
          <button
            className="primary"
            data-testid="discovery-scan-now"
            disabled={inScan}
            onClick={() => trigger.mutate({})}
          >
            {inScan ? 'Scanning…' : scanning ? 'Join scan' : 'Scan now'}
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
      <RiskHelp />
      {stream.status === 'error' && (
        <p className="error">Live updates stopped: {stream.error?.message}. Reload to retry.</p>
      )}
      <div className="discovery-body">
        <div className="discovery-list">
          {tokens.length > 0 && <TokenFilters view={view} chains={chains} />}
          {recent.isPending ? (
            <p className="loading">Loading tokens…</p>
          ) : recent.isError ? (
            <div className="empty-state">
              <p className="error">Could not load tokens: {recent.error.message}</p>
              <button onClick={() => void recent.refetch()}>Try again</button>
            </div>
          ) : tokens.length === 0 ? (
            <div className="empty-state" data-testid="discovery-empty">
              <p>No tokens discovered yet.</p>
              <p>Press “Scan now” to run the first scan; everyone here will see the results.</p>
            </div>
          ) : shown.length === 0 ? (
            <div className="empty-state" data-testid="discovery-no-match">
              <p>No token matches these filters.</p>
            </div>
          ) : view.table ? (
            <TokenTable tokens={shown} sort={view.query.sort} dir={view.query.dir} onSort={view.sortBy} />
          ) : (
            <TokenGrid tokens={shown} />
          )}
        </div>
        <StatusPanel status={status.data} isAdmin={me.data?.role === 'admin'} />
      </div>
    </section>
  );
}
