import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import type { VaultScheduler } from '../../../../shared/vault';
import { FieldErrors, fieldErrorsOf, isInputError } from '../../components/FieldErrors';
import { useTRPC } from '../../trpc';

export function SchedulerPanel({ scheduler, onChanged }: { scheduler: VaultScheduler; onChanged: () => void }) {
  const trpc = useTRPC();
  const [minutes, setMinutes] = useState(String(scheduler.intervalMinutes));
  const control = useMutation(
    trpc.vault.controlScheduler.mutationOptions({
      onSuccess: (s) => {
        toast(s.isActive ? `Scheduler running every ${s.intervalMinutes} min` : 'Scheduler stopped');
        onChanged();
      },
      onError: (err) => isInputError(err) || toast.error(err.message),
    }),
  );
  const interval = fieldErrorsOf(control.error).field.intervalMinutes;
  const act = (action: 'start' | 'stop' | 'restart') =>
    control.mutate({ action, intervalMinutes: action === 'stop' ? undefined : Number(minutes) });
  return (
    <div className="vault-scheduler" data-testid="vault-scheduler" data-active={scheduler.isActive}>
      <p>
        <span className={`badge ${scheduler.isActive ? 'good' : 'bad'}`}>
          {scheduler.isActive ? 'running' : 'stopped'}
        </span>{' '}
        every {scheduler.intervalMinutes} min
        {scheduler.lastRunAt && <span className="muted"> · last run {scheduler.lastRunAt.toLocaleTimeString()}</span>}
        {scheduler.nextRunAt && <span className="muted"> · next {scheduler.nextRunAt.toLocaleTimeString()}</span>}
      </p>
      <div className="vault-form-row">
        <label className="field">
          Interval (minutes)
          <input
            type="number"
            min={1}
            max={1440}
            value={minutes}
            aria-invalid={!!interval?.length}
            onChange={(e) => setMinutes(e.target.value)}
          />
          <FieldErrors messages={interval} />
        </label>
        <div className="vault-buttons">
          <button onClick={() => act('start')} disabled={control.isPending || scheduler.isActive}>
            Start
          </button>
          <button onClick={() => act('stop')} disabled={control.isPending || !scheduler.isActive}>
            Stop
          </button>
          <button onClick={() => act('restart')} disabled={control.isPending}>
            Restart
          </button>
        </div>
      </div>
    </div>
  );
}
