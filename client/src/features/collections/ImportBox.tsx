import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import { ZShareCode } from '../../../../shared/collections';
import { useTRPC } from '../../trpc';

/** "Import by code": the new copy's toast comes through system.notifications, in every tab. */
export function ImportBox({ onImported }: { onImported: (id: number) => void }) {
  const trpc = useTRPC();
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const importing = useMutation(
    trpc.collections.importByCode.mutationOptions({
      onSuccess: (result) => {
        setCode('');
        // No event for a copy that already existed, so this tab says so itself.
        if (result.alreadyImported) toast(result.message);
        onImported(result.collection.id);
      },
      onError: (err) => setError(err.message),
    }),
  );
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const parsed = ZShareCode.safeParse(code);
    if (!parsed.success) return setError(parsed.error.issues[0]?.message ?? 'Check the code.');
    setError(null);
    importing.mutate({ code: parsed.data });
  };
  return (
    <form className="card import-box" onSubmit={submit} data-testid="import-box">
      <label className="field">
        Import by code
        <input
          value={code}
          onChange={(e) => setCode(e.target.value)}
          placeholder="ABCDE-23456"
          autoCapitalize="characters"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={error ? 'true' : 'false'}
          maxLength={20}
        />
      </label>
      <button className="primary" type="submit" disabled={importing.isPending}>
        {importing.isPending ? 'Importing…' : 'Import'}
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
