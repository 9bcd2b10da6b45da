import type { VaultAttempt } from '../../../../shared/vault';

export function AttemptList({ attempts }: { attempts: (VaultAttempt & { id: number })[] }) {
  return (
    <ul className="vault-attempts" data-testid="vault-attempts">
      {attempts.map((a) => (
        <li key={a.id} data-outcome={a.outcome}>
          <span className={`badge ${a.outcome === 'success' ? 'good' : 'bad'}`}>
            {a.outcome === 'requires_configuration' ? 'needs configuration' : a.outcome}
          </span>{' '}
          <span>
            {a.provider} / {a.label}
          </span>{' '}
          <span className="muted">
            {a.trigger} · {a.at.toLocaleTimeString()} · {a.durationMs} ms
          </span>
          {a.message && <div className="error">{a.message}</div>}
        </li>
      ))}
    </ul>
  );
}
