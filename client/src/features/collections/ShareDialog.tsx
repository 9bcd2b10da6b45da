import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import {
  COLLECTION_IMPORTED,
  COLLECTIONS_FEATURE,
  formatShareCode,
  type Collection,
  type ShareCodeInfo,
} from '../../../../shared/collections';
import { isResumePoint } from '../../../../shared/system';
import { QueryState } from '../../components/QueryState';
import { useTRPC } from '../../trpc';

const EXPIRY = [
  { label: 'Never', hours: null },
  { label: '1 hour', hours: 1 },
  { label: '1 day', hours: 24 },
  { label: '1 week', hours: 24 * 7 },
] as const;

async function copy(code: string) {
  try {
    await navigator.clipboard.writeText(code);
    toast.success(`Copied ${code}.`);
  } catch {
    // Clipboard access needs a secure context and permission; the code stays on screen to copy by hand.
    toast(`Copy it by hand: ${code}`);
  }
}

const usesText = (c: ShareCodeInfo) =>
  `${c.uses}${c.maxUses === null ? '' : ` / ${c.maxUses}`} use${c.uses === 1 && c.maxUses === null ? '' : 's'}`;

export function ShareDialog({ collection, onClose }: { collection: Collection; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [expiry, setExpiry] = useState(0);
  const [maxUses, setMaxUses] = useState('');
  const [latest, setLatest] = useState<string | null>(null);
  const codes = useQuery(trpc.collections.shareCodes.queryOptions({ collectionId: collection.id }));
  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: trpc.collections.shareCodes.queryKey({ collectionId: collection.id }) });
  const onError = (e: { message: string }) => toast.error(e.message);
  const create = useMutation(
    trpc.collections.createShareCode.mutationOptions({
      onSuccess: (c) => (setLatest(formatShareCode(c.code)), refresh()),
      onError,
    }),
  );
  const revoke = useMutation(trpc.collections.revokeShareCode.mutationOptions({ onSuccess: refresh, onError }));
  // Use counts move while the dialog is open: the owner's inbox says when someone imports.
  useSubscription(
    trpc.system.notifications.subscriptionOptions(undefined, {
      onData: ({ data: n }) => {
        if (!isResumePoint(n) && n.feature === COLLECTIONS_FEATURE && n.type === COLLECTION_IMPORTED) void refresh();
      },
    }),
  );

  return (
    <div className="dialog-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div
        className="card dialog"
        role="dialog"
        aria-modal="true"
        aria-label={`Share "${collection.title}"`}
        data-testid="share-dialog"
      >
        <div className="editor-head">
          <h2>Share “{collection.title}”</h2>
          <button className="link close" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </div>
        <p className="muted">
          Anyone signed in who types this code gets their own copy of the collection and its cards.
        </p>
        <form
          className="row wrap"
          onSubmit={(e) => {
            e.preventDefault();
            const uses = maxUses.trim() === '' ? null : Number(maxUses);
            create.mutate({ collectionId: collection.id, expiresInHours: EXPIRY[expiry]!.hours, maxUses: uses });
          }}
        >
          <label className="field">
            Expires
            <select value={expiry} onChange={(e) => setExpiry(Number(e.target.value))}>
              {EXPIRY.map((x, i) => (
                <option key={x.label} value={i}>
                  {x.label}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            Max uses
            <input
              inputMode="numeric"
              value={maxUses}
              onChange={(e) => setMaxUses(e.target.value)}
              placeholder="unlimited"
              size={8}
            />
          </label>
          <button className="primary" type="submit" disabled={create.isPending}>
            Create code
          </button>
        </form>
        {latest && (
          <div className="new-code">
            <code data-testid="new-share-code">{latest}</code>
            <button onClick={() => copy(latest)}>Copy</button>
          </div>
        )}
        <h3>Codes</h3>
        <QueryState query={codes} isEmpty={(d) => d.length === 0} empty="No codes yet.">
          {(list) => (
            <ul className="code-list">
              {list.map((c) => (
                <li key={c.code} className={c.status}>
                  <code>{formatShareCode(c.code)}</code>
                  <span className="muted">
                    {usesText(c)} ·{' '}
                    {c.status === 'active'
                      ? c.expiresAt
                        ? `expires ${c.expiresAt.toLocaleString()}`
                        : 'no expiry'
                      : c.status}
                  </span>
                  {c.status !== 'revoked' && (
                    <button className="link" onClick={() => revoke.mutate({ code: c.code })}>
                      Revoke
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </QueryState>
      </div>
    </div>
  );
}
