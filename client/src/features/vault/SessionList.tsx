import { useMutation } from '@tanstack/react-query';
import { toast } from 'sonner';
import type { VaultSession } from '../../../../shared/vault';
import { useTRPC } from '../../trpc';
import { Countdown } from './Countdown';

const statusClass: Record<VaultSession['status'], string> = {
  active: 'good',
  expired: 'bad',
  error: 'bad',
  requires_configuration: 'bad',
};
const statusText: Record<VaultSession['status'], string> = {
  active: 'active',
  expired: 'expired',
  error: 'error',
  requires_configuration: 'needs configuration',
};

export function SessionList({ sessions, onChanged }: { sessions: VaultSession[]; onChanged: () => void }) {
  const trpc = useTRPC();
  const refresh = useMutation(
    trpc.vault.refreshNow.mutationOptions({
      onSuccess: (r) => {
        if (r.outcome === 'success') toast.success(`${r.session.provider} / ${r.session.label} refreshed`);
        else toast.error(r.session.lastError ?? 'Refresh failed');
        onChanged();
      },
      onError: (err) => toast.error(err.message),
    }),
  );
  return (
    <ul className="vault-sessions">
      {sessions.map((s) => (
        <li
          key={s.id}
          className="vault-session"
          data-testid="vault-session"
          data-label={s.label}
          data-status={s.status}
        >
          <div className="vault-session-head">
            <strong>
              {s.provider} / {s.label}
            </strong>
            <span className={`badge ${statusClass[s.status]}`} data-testid="vault-status">
              {statusText[s.status]}
            </span>
          </div>
          <div className="vault-session-facts">
            <Countdown at={s.expiresAt} />
            <span className="muted">
              {s.lastRefreshAt ? `refreshed ${s.lastRefreshAt.toLocaleTimeString()}` : 'never refreshed here'}
            </span>
          </div>
          {s.lastError && (
            <p className="error" data-testid="vault-last-error">
              {s.lastError}
            </p>
          )}
          <button
            data-testid="vault-refresh"
            disabled={refresh.isPending && refresh.variables?.sessionId === s.id}
            onClick={() => refresh.mutate({ sessionId: s.id })}
          >
            {refresh.isPending && refresh.variables?.sessionId === s.id ? 'Refreshing…' : 'Refresh now'}
          </button>
        </li>
      ))}
    </ul>
  );
}
