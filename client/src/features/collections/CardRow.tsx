import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import { COLLECTION_LIMITS, type Card } from '../../../../shared/collections';
import { useTRPC } from '../../trpc';

export const parseTags = (s: string) =>
  s
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);

export function CardRow(props: {
  card: Card;
  first: boolean;
  last: boolean;
  onMove: (by: -1 | 1) => void;
  onChanged: () => void;
}) {
  const { card } = props;
  const trpc = useTRPC();
  const [editing, setEditing] = useState<{ front: string; back: string; tags: string } | null>(null);
  const onError = (e: { message: string }) => toast.error(e.message);
  const update = useMutation(
    trpc.collections.updateCard.mutationOptions({ onSuccess: () => (setEditing(null), props.onChanged()), onError }),
  );
  const remove = useMutation(trpc.collections.removeCard.mutationOptions({ onSuccess: props.onChanged, onError }));

  if (editing)
    return (
      <li className="card-row editing">
        <form
          className="stack"
          onSubmit={(e) => (
            e.preventDefault(),
            update.mutate({
              collectionId: card.collectionId,
              cardId: card.id,
              front: editing.front,
              back: editing.back,
              tags: parseTags(editing.tags),
            })
          )}
        >
          <textarea
            aria-label="Front"
            value={editing.front}
            onChange={(e) => setEditing({ ...editing, front: e.target.value })}
            maxLength={COLLECTION_LIMITS.cardTextLength}
            rows={2}
          />
          <textarea
            aria-label="Back"
            value={editing.back}
            onChange={(e) => setEditing({ ...editing, back: e.target.value })}
            maxLength={COLLECTION_LIMITS.cardTextLength}
            rows={2}
          />
          <input
            aria-label="Tags"
            value={editing.tags}
            onChange={(e) => setEditing({ ...editing, tags: e.target.value })}
          />
          <div className="row">
            <button className="primary" type="submit" disabled={update.isPending}>
              Save card
            </button>
            <button type="button" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </div>
        </form>
      </li>
    );

  return (
    <li className="card-row">
      <div className="card-text">
        <div className="front">{card.front}</div>
        {card.back && <div className="back muted">{card.back}</div>}
        {card.tags.length > 0 && (
          <div className="tags">
            {card.tags.map((t) => (
              <span key={t} className="badge">
                {t}
              </span>
            ))}
          </div>
        )}
      </div>
      <div className="card-actions">
        <button aria-label={`Move "${card.front}" up`} disabled={props.first} onClick={() => props.onMove(-1)}>
          ↑
        </button>
        <button aria-label={`Move "${card.front}" down`} disabled={props.last} onClick={() => props.onMove(1)}>
          ↓
        </button>
        <button
          className="link"
          onClick={() => setEditing({ front: card.front, back: card.back, tags: card.tags.join(', ') })}
        >
          Edit
        </button>
        <button className="link" onClick={() => remove.mutate({ collectionId: card.collectionId, cardId: card.id })}>
          Delete
        </button>
      </div>
    </li>
  );
}
