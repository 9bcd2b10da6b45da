import { useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useState } from 'react';
import { isResumePoint } from '../../../../shared/system';
import { useTRPC } from '../../trpc';
import { CollectionEditor } from './CollectionEditor';
import { CollectionList } from './CollectionList';
import { ImportBox } from './ImportBox';
import './collections.css';

export default function CollectionsPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [selected, setSelected] = useState<number | null>(null);

  // Every tab follows the same stream, so a change made in one (an import above all) shows
  // in all of them at once; the toast comes from system.notifications (payload.message).
  useSubscription(
    trpc.collections.events.subscriptionOptions(undefined, {
      onData: ({ data: event }) => {
        if (isResumePoint(event)) return;
        void queryClient.invalidateQueries({ queryKey: trpc.collections.list.pathKey() });
        if (event.type === 'new_collection') return;
        const id = event.type === 'collection_removed' ? event.payload.id : event.payload.collection.id;
        void queryClient.invalidateQueries({ queryKey: trpc.collections.get.infiniteQueryKey({ id }) });
        if (event.type === 'collection_removed') setSelected((s) => (s === id ? null : s));
      },
    }),
  );

  return (
    <div className="collections-page">
      <aside className="collections-side">
        <ImportBox onImported={setSelected} />
        <CollectionList selected={selected} onSelect={setSelected} />
      </aside>
      <section className="collections-main">
        {selected === null ? (
          <div className="card empty-state">
            <h2>Collections</h2>
            <p>Pick a collection to edit its cards, create one, or import one with a share code.</p>
          </div>
        ) : (
          <CollectionEditor key={selected} id={selected} onClose={() => setSelected(null)} />
        )}
      </section>
    </div>
  );
}
