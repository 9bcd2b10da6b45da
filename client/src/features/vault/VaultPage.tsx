import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { toast } from 'sonner';
import type { VaultEvent } from '../../../../shared/vault';
import { isResumePoint } from '../../../../shared/system';
import { QueryState } from '../../components/QueryState';
import { useTRPC } from '../../trpc';
import { AttemptList } from './AttemptList';
import { PriceAnalysis } from './PriceAnalysis';
import { SaveSessionForm } from './SaveSessionForm';
import { SchedulerPanel } from './SchedulerPanel';
import { SessionList } from './SessionList';
import './vault.css';

export default function VaultPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const sessions = useQuery(trpc.vault.sessions.queryOptions());
  const scheduler = useQuery(trpc.vault.scheduler.queryOptions());
  const attempts = useQuery(trpc.vault.attempts.queryOptions({ limit: 15 }));

  const reload = () => {
    for (const key of [trpc.vault.sessions.queryKey(), trpc.vault.scheduler.queryKey(), trpc.vault.attempts.queryKey()])
      void queryClient.invalidateQueries({ queryKey: key });
  };

  // Every attempt, save and scheduler change is pushed here, from this page or anyone else's.
  useSubscription(
    trpc.vault.events.subscriptionOptions(undefined, {
      onData: ({ data }) => {
        if (isResumePoint(data)) return;
        const e = data as VaultEvent;
        if (e.type === 'attempt' && e.attempt.outcome !== 'success')
          toast.error(`${e.session.provider} / ${e.session.label}: ${e.attempt.message ?? e.attempt.outcome}`);
        reload();
      },
    }),
  );

  return (
    <section className="vault">
      <header>
        <h1>Vault</h1>
        <p className="muted">
          Upstream credentials, encrypted at rest and kept fresh by the scheduler. Secrets never leave the server.
        </p>
      </header>
      <div className="vault-grid">
        <div className="card">
          <h2>Sessions</h2>
          <QueryState query={sessions} isEmpty={(s) => s.length === 0} empty="No session yet: paste a cookie below.">
            {(list) => <SessionList sessions={list} onChanged={reload} />}
          </QueryState>
          <h3>Add or replace a session</h3>
          <SaveSessionForm onSaved={reload} />
        </div>
        <div className="card">
          <h2>Vinted price analysis</h2>
          <PriceAnalysis />
        </div>
        <div className="card">
          <h2>Scheduler</h2>
          {scheduler.data ? (
            <SchedulerPanel key={scheduler.data.intervalMinutes} scheduler={scheduler.data} onChanged={reload} />
          ) : (
            <p className="loading">Loading…</p>
          )}
        </div>
        <div className="card">
          <h2>Recent attempts</h2>
          <QueryState query={attempts} isEmpty={(a) => a.length === 0} empty="No refresh attempt yet.">
            {(list) => <AttemptList attempts={list} />}
          </QueryState>
        </div>
      </div>
    </section>
  );
}
