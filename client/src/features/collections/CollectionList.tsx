import { useInfiniteQuery, useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import { COLLECTION_LIMITS } from '../../../../shared/collections';
import { QueryState } from '../../components/QueryState';
import { useTRPC } from '../../trpc';

export function CollectionList({ selected, onSelect }: { selected: number | null; onSelect: (id: number) => void }) {
  const trpc = useTRPC();
  const [title, setTitle] = useState('');
  const list = useInfiniteQuery(
    trpc.collections.list.infiniteQueryOptions({ limit: 30 }, { getNextPageParam: (last) => last.nextCursor }),
  );
  const create = useMutation(
    trpc.collections.create.mutationOptions({
      onSuccess: (c) => (setTitle(''), onSelect(c.id)),
      onError: (e) => toast.error(e.message),
    }),
  );
  const items = list.data?.pages.flatMap((p) => p.items);

  return (
    <div className="card collection-list" data-testid="collection-list">
      <h2>My collections</h2>
      <form className="inline-form" onSubmit={(e) => (e.preventDefault(), create.mutate({ title }))}>
        <input
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          placeholder="New collection title"
          aria-label="New collection title"
          maxLength={COLLECTION_LIMITS.titleLength}
        />
        <button type="submit" disabled={create.isPending || !title.trim()}>
          Create
        </button>
      </form>
      <QueryState
        query={{ ...list, data: items }}
        isEmpty={(d) => d.length === 0}
        empty="No collections yet: create one, or import one with a code."
      >
        {(collections) => (
          <ul className="collection-items">
            {collections.map((c) => (
              <li key={c.id}>
                <button
                  className={`collection-item ${selected === c.id ? 'active' : ''}`}
                  onClick={() => onSelect(c.id)}
                  aria-current={selected === c.id}
                >
                  <span className="title">{c.title}</span>
                  <span className="muted">
                    {c.cardCount} card{c.cardCount === 1 ? '' : 's'}
                    {c.source && ` · from ${c.source.ownerName}`}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </QueryState>
      {list.hasNextPage && (
        <button onClick={() => list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          {list.isFetchingNextPage ? 'Loading…' : 'Show more'}
        </button>
      )}
    </div>
  );
}
