import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { toast } from 'sonner';
import type { VaultProvider } from '../../../../shared/vault';
import { useTRPC } from '../../trpc';

/** Add or replace a session. What was pasted is cleared once saved: the page keeps no secret. */
export function SaveSessionForm({ onSaved }: { onSaved: () => void }) {
  const trpc = useTRPC();
  const [provider, setProvider] = useState<VaultProvider>('vinted');
  const [label, setLabel] = useState('default');
  const [cookie, setCookie] = useState('');
  const [appKey, setAppKey] = useState('');
  const [appSecret, setAppSecret] = useState('');
  const save = useMutation(
    trpc.vault.saveSession.mutationOptions({
      onSuccess: (s) => {
        setCookie('');
        setAppKey('');
        setAppSecret('');
        if (s.status === 'active') toast.success(`${s.provider} / ${s.label} saved`);
        else toast.error(s.lastError ?? `Saved, but the session is ${s.status}`);
        onSaved();
      },
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(
      provider === 'vinted'
        ? { provider, label, secrets: { cookie } }
        : { provider, label, secrets: { appKey, appSecret } },
    );
  };
  return (
    <form className="vault-form" onSubmit={submit}>
      <div className="vault-form-row">
        <label className="field">
          Provider
          <select
            value={provider}
            onChange={(e) => setProvider(e.target.value as VaultProvider)}
            data-testid="vault-provider"
          >
            <option value="vinted">Vinted (browser cookie)</option>
            <option value="goplus">GoPlus (app key)</option>
          </select>
        </label>
        <label className="field">
          Label
          <input value={label} onChange={(e) => setLabel(e.target.value)} maxLength={60} data-testid="vault-label" />
        </label>
      </div>
      {provider === 'vinted' ? (
        <label className="field">
          Cookie header
          <textarea
            rows={3}
            value={cookie}
            onChange={(e) => setCookie(e.target.value)}
            placeholder="Signed in on Vinted: developer tools → Network → any request → Request Headers → Cookie"
            autoComplete="off"
            spellCheck={false}
            data-testid="vault-cookie"
          />
        </label>
      ) : (
        <div className="vault-form-row">
          <label className="field">
            App key
            <input value={appKey} onChange={(e) => setAppKey(e.target.value)} autoComplete="off" />
          </label>
          <label className="field">
            App secret
            <input
              type="password"
              value={appSecret}
              onChange={(e) => setAppSecret(e.target.value)}
              autoComplete="off"
            />
          </label>
        </div>
      )}
      {save.error && (
        <p className="error" data-testid="vault-save-error">
          {save.error.message}
        </p>
      )}
      <button className="primary" type="submit" disabled={save.isPending} data-testid="vault-save">
        {save.isPending ? 'Saving…' : 'Save session'}
      </button>
    </form>
  );
}
