import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { toast } from 'sonner';
import { COLLECTION_LIMITS, type Collection } from '../../../../shared/collections';
import { useTRPC, useTRPCClient } from '../../trpc';

interface Details {
  title: string;
  description: string;
}
const same = (a: Details, b: Details) => a.title === b.title && a.description === b.description;

/**
 * A collection's title and description, saved without a Save button: when a field loses focus,
 * on Enter in the title, and when the editor goes away (another page, another collection, the
 * browser's Back button, which unmounts it without a blur). Closing or reloading the tab with
 * an edit not yet stored asks first: a request sent from a page being unloaded may never leave.
 */
export function DetailsForm({ collection }: { collection: Collection }) {
  const client = useTRPCClient();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [title, setTitle] = useState(collection.title);
  const [description, setDescription] = useState(collection.description);
  const [base, setBase] = useState<Details>({ title: collection.title, description: collection.description });
  // A rename from another tab shows here too, unless this tab has unsaved edits of its own. Set
  // during render (React's "adjusting state when a prop changes"), so no frame shows the old title.
  if (collection.title !== base.title || collection.description !== base.description) {
    if (title === base.title && description === base.description) {
      setTitle(collection.title);
      setDescription(collection.description);
    }
    setBase({ title: collection.title, description: collection.description });
  }
  const [status, setStatus] = useState<'saving' | 'saved' | null>(null);

  // Read by the unmount and beforeunload handlers, which outlive the render that made them.
  const latest = useRef({ details: { title, description }, base });
  useEffect(() => {
    latest.current = { details: { title, description }, base };
  });
  // The last details sent (stored or on their way) and how many saves are on their way: a blur
  // followed by the editor closing sends one request, not two.
  const sent = useRef<Details | null>(null);
  const inflight = useRef(0);
  const id = collection.id;
  const persist = useMemo(() => {
    const unsaved = (d: Details) => !same(d, latest.current.base) && !(sent.current && same(d, sent.current));
    const save = (d: Details) => {
      if (!unsaved(d)) return;
      const previous = sent.current;
      sent.current = d;
      inflight.current++;
      setStatus('saving');
      client.collections.update.mutate({ id, ...d }).then(
        () => {
          inflight.current--;
          setStatus(inflight.current ? 'saving' : 'saved');
          // Coming back to the collection shows what was stored at once, not the cached old text
          // until a refetch (the editor may already be gone: this outlives it).
          queryClient.setQueryData(
            trpc.collections.get.infiniteQueryKey({ id }),
            (old) => old && { ...old, pages: old.pages.map((p) => ({ ...p, collection: { ...p.collection, ...d } })) },
          );
          void queryClient.invalidateQueries({ queryKey: trpc.collections.list.pathKey() });
        },
        (e: Error) => {
          inflight.current--;
          sent.current = previous;
          setStatus(null);
          toast.error(e.message);
        },
      );
    };
    return { save, unsaved };
  }, [client, id, queryClient, trpc]);

  useEffect(() => () => persist.save(latest.current.details), [persist]);
  useEffect(() => {
    const ask = (e: BeforeUnloadEvent) => {
      const { details } = latest.current;
      // Sent now in case it makes it; the question stays until the server has answered.
      const pending = persist.unsaved(details);
      persist.save(details);
      if (pending || inflight.current > 0) e.preventDefault();
    };
    window.addEventListener('beforeunload', ask);
    return () => window.removeEventListener('beforeunload', ask);
  }, [persist]);

  const save = () => persist.save({ title, description });
  const dirty = !same({ title, description }, base);
  const hint =
    status === 'saving'
      ? 'Saving…'
      : dirty && status !== 'saved'
        ? 'Saved when you leave the field'
        : status && 'Saved';
  return (
    <form className="stack" onSubmit={(e) => (e.preventDefault(), save())}>
      <label className="field">
        Title
        <input
          value={title}
          onChange={(e) => (setTitle(e.target.value), setStatus(null))}
          onBlur={save}
          maxLength={COLLECTION_LIMITS.titleLength}
        />
      </label>
      <label className="field">
        Description
        <textarea
          value={description}
          onChange={(e) => (setDescription(e.target.value), setStatus(null))}
          onBlur={save}
          maxLength={COLLECTION_LIMITS.descriptionLength}
          rows={2}
        />
      </label>
      <p className="muted save-hint" role="status" data-testid="details-status">
        {hint}
      </p>
    </form>
  );
}
