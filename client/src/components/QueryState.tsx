import type { ReactNode } from 'react';

/** The loading, error and empty states every list shows the same way; `children` renders the rest. */
export function QueryState<T>(props: {
  query: { isPending: boolean; isError: boolean; error: { message: string } | null; data: T | undefined };
  isEmpty: (data: T) => boolean;
  empty: ReactNode;
  children: (data: T) => ReactNode;
}) {
  const { query } = props;
  if (query.isPending) return <p className="loading">Loading…</p>;
  if (query.isError || query.data === undefined)
    return <p className="error">{query.error?.message ?? 'Could not load.'}</p>;
  if (props.isEmpty(query.data)) return <p className="muted">{props.empty}</p>;
  return <>{props.children(query.data)}</>;
}
