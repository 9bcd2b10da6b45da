import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import { COLLECTION_LIMITS, type Card, type Collection } from '../../../../shared/collections';
import { QueryState } from '../../components/QueryState';
import { useTRPC } from '../../trpc';
import { CardRow, parseTags } from './CardRow';
import { DetailsForm } from './DetailsForm';
import { ShareDialog } from './ShareDialog';

/** Cards come a page at a time (collections.get pages them); "Show more" asks for the next. */
export function CollectionEditor({ id, onClose }: { id: number; onClose: () => void }) {
  const trpc = useTRPC();
  const get = useInfiniteQuery(
    trpc.collections.get.infiniteQueryOptions({ id }, { getNextPageParam: (last) => last.nextCursor }),
  );
  const pages = get.data?.pages;
  const data = pages?.[0] && { collection: pages[0].collection, cards: pages.flatMap((p) => p.cards) };
  // Reordering names every card, so the pages not shown yet are fetched first.
  const allCards = async () => {
    let state = get;
    while (state.hasNextPage) state = await state.fetchNextPage();
    return state.data?.pages.flatMap((p) => p.cards) ?? [];
  };
  const more = { hasNextPage: get.hasNextPage, loading: get.isFetchingNextPage, load: () => void get.fetchNextPage() };
  return (
    <div className="card collection-editor" data-testid="collection-editor">
      <QueryState query={{ ...get, data }} isEmpty={() => false} empty={null}>
        {({ collection, cards }) => (
          <Editor collection={collection} cards={cards} more={more} allCards={allCards} onClose={onClose} />
        )}
      </QueryState>
    </div>
  );
}

function Editor({
  collection,
  cards,
  more,
  allCards,
  onClose,
}: {
  collection: Collection;
  cards: Card[];
  more: { hasNextPage: boolean; loading: boolean; load: () => void };
  allCards: () => Promise<Card[]>;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [sharing, setSharing] = useState(false);
  const [draft, setDraft] = useState({ front: '', back: '', tags: '' });
  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: trpc.collections.get.infiniteQueryKey({ id: collection.id }) });
  const onError = (e: { message: string }) => toast.error(e.message);
  const remove = useMutation(trpc.collections.remove.mutationOptions({ onSuccess: onClose, onError }));
  const addCard = useMutation(
    trpc.collections.addCard.mutationOptions({
      onSuccess: () => (setDraft({ front: '', back: '', tags: '' }), refresh()),
      onError,
    }),
  );
  const reorder = useMutation(trpc.collections.reorderCards.mutationOptions({ onSuccess: refresh, onError }));
  const move = async (index: number, by: -1 | 1) => {
    const ids = (more.hasNextPage ? await allCards() : cards).map((c) => c.id);
    const [moved] = ids.splice(index, 1);
    ids.splice(index + by, 0, moved!);
    reorder.mutate({ collectionId: collection.id, cardIds: ids });
  };

  return (
    <>
      <div className="editor-head">
        <h2>{collection.title}</h2>
        {collection.source && <span className="badge">imported from {collection.source.ownerName}</span>}
        <div className="editor-actions">
          <button onClick={() => setSharing(true)}>Share…</button>
          <button
            className="danger"
            onClick={() =>
              confirm(`Delete "${collection.title}" and its ${collection.cardCount} cards?`) &&
              remove.mutate({ id: collection.id })
            }
          >
            Delete
          </button>
        </div>
      </div>
      <DetailsForm collection={collection} />

      <h3>Cards ({collection.cardCount})</h3>
      {cards.length === 0 ? (
        <p className="muted">No cards yet: add the first one below.</p>
      ) : (
        <ol className="card-list">
          {cards.map((card, i) => (
            <CardRow
              key={card.id}
              card={card}
              first={i === 0}
              last={i === cards.length - 1 && !more.hasNextPage}
              onMove={(by) => void move(i, by)}
              onChanged={refresh}
            />
          ))}
        </ol>
      )}
      {more.hasNextPage && (
        <button className="show-more" onClick={more.load} disabled={more.loading}>
          {more.loading ? 'Loading…' : `Show more (${cards.length} of ${collection.cardCount} shown)`}
        </button>
      )}
      <form
        className="stack add-card"
        onSubmit={(e) => (
          e.preventDefault(),
          addCard.mutate({
            collectionId: collection.id,
            front: draft.front,
            back: draft.back,
            tags: parseTags(draft.tags),
          })
        )}
      >
        <h3>Add a card</h3>
        <label className="field">
          Front
          <textarea
            value={draft.front}
            onChange={(e) => setDraft({ ...draft, front: e.target.value })}
            maxLength={COLLECTION_LIMITS.cardTextLength}
            rows={2}
          />
        </label>
        <label className="field">
          Back
          <textarea
            value={draft.back}
            onChange={(e) => setDraft({ ...draft, back: e.target.value })}
            maxLength={COLLECTION_LIMITS.cardTextLength}
            rows={2}
          />
        </label>
        <label className="field">
          Tags (comma-separated)
          <input value={draft.tags} onChange={(e) => setDraft({ ...draft, tags: e.target.value })} />
        </label>
        <button className="primary" type="submit" disabled={addCard.isPending || !draft.front.trim()}>
          Add card
        </button>
      </form>
      {sharing && <ShareDialog collection={collection} onClose={() => setSharing(false)} />}
    </>
  );
}
