import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import { DISCOVERY_MIN_INTERVAL_SECONDS, type DiscoveryStatus } from '../../../../shared/discovery';
import { useTRPC } from '../../trpc';

export function StatusPanel({ status, isAdmin }: { status: DiscoveryStatus | undefined; isAdmin: boolean }) {
  const trpc = useTRPC();
  const stats = useQuery(trpc.discovery.stats.queryOptions());
  const s = stats.data;
  return (
    <aside className="discovery-side">
      <div className="card" data-testid="discovery-status">
        <h2>Status</h2>
        {!status || !s ? (
          <p className="muted">{stats.isError ? `Could not load: ${stats.error.message}` : 'Loading…'}</p>
        ) : (
          <dl className="stats">
            <dt>Last scan</dt>
            <dd data-testid="last-scan" data-outcome={status.lastScan?.outcome ?? 'none'}>
              {!status.lastScan ? (
                status.lastScanAt ? (
                  'running…'
                ) : (
                  'never'
                )
              ) : status.lastScan.outcome === 'completed' ? (
                <>
                  <span className="pnl-up">completed</span> {status.lastScan.finishedAt.toLocaleTimeString()} ·{' '}
                  {status.lastScan.newTokens} new
                </>
              ) : (
                <>
                  <span className="pnl-down">failed</span> {status.lastScan.finishedAt.toLocaleTimeString()}
                </>
              )}
            </dd>
            {status.lastScan?.outcome === 'failed' && status.lastScan.error && (
              <dd className="last-scan-failed small" data-testid="last-scan-error">
                {status.lastScan.error}
              </dd>
            )}
            <dt>Scans</dt>
            <dd>{status.totalScans}</dd>
            <dt>Tokens stored</dt>
            <dd>
              {status.tokensInDatabase} / {status.databaseCapacity} ({s.databaseUsagePercent}%)
            </dd>
            <dt>Discovered ever</dt>
            <dd>{s.totalTokensDiscovered}</dd>
            <dt>Safe / risky / unverified</dt>
            <dd>
              <span className="pnl-up">{s.safeTokens}</span> / <span className="pnl-down">{s.riskyTokens}</span> /{' '}
              {s.unverifiedTokens}
            </dd>
            <dt>Auto-discovery</dt>
            <dd>{status.autoDiscoveryActive ? `every ${status.autoDiscoveryInterval} s` : 'off'}</dd>
          </dl>
        )}
      </div>
      {isAdmin && status && <AutoControls status={status} />}
    </aside>
  );
}

function AutoControls({ status }: { status: DiscoveryStatus }) {
  const trpc = useTRPC();
  const [intervalSeconds, setIntervalSeconds] = useState(
    String(Math.max(status.autoDiscoveryInterval, DISCOVERY_MIN_INTERVAL_SECONDS)),
  );
  const [maxTokens, setMaxTokens] = useState(String(status.autoDiscoveryMaxTokens));
  const onError = (err: { message: string }) => toast.error(err.message);
  const start = useMutation(
    trpc.discovery.autoStart.mutationOptions({ onError, onSuccess: () => toast.success('Auto-discovery on') }),
  );
  const stop = useMutation(
    trpc.discovery.autoStop.mutationOptions({ onError, onSuccess: () => toast('Auto-discovery off') }),
  );
  return (
    <form
      className="card auto-controls"
      onSubmit={(e) => {
        e.preventDefault();
        start.mutate({ intervalSeconds: Number(intervalSeconds), maxTokens: Number(maxTokens) });
      }}
    >
      <h2>Auto-discovery (admin)</h2>
      <label className="field">
        Every (seconds, at least {DISCOVERY_MIN_INTERVAL_SECONDS})
        <input
          type="number"
          min={DISCOVERY_MIN_INTERVAL_SECONDS}
          value={intervalSeconds}
          onChange={(e) => setIntervalSeconds(e.target.value)}
        />
      </label>
      <label className="field">
        Tokens per scan (1–100)
        <input type="number" min={1} max={100} value={maxTokens} onChange={(e) => setMaxTokens(e.target.value)} />
      </label>
      <div className="row">
        <button type="submit" className="primary" disabled={start.isPending}>
          {status.autoDiscoveryActive ? 'Update' : 'Start'}
        </button>
        <button type="button" disabled={!status.autoDiscoveryActive || stop.isPending} onClick={() => stop.mutate()}>
          Stop
        </button>
      </div>
    </form>
  );
}
