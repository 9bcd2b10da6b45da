import type { useTokenQuery } from './token-view';

type View = ReturnType<typeof useTokenQuery>;

/** Chain, verdict and a search over name, symbol and address; cards or a table. */
export function TokenFilters({ view, chains }: { view: View; chains: string[] }) {
  const { query } = view;
  return (
    <div className="token-filters" role="search">
      <input
        type="search"
        placeholder="Search name or address"
        aria-label="Search tokens by name or address"
        value={query.search}
        onChange={(e) => view.setSearch(e.target.value)}
        data-testid="token-search"
      />
      <select value={query.chain} onChange={(e) => view.setChain(e.target.value)} aria-label="Chain filter">
        <option value="">All chains</option>
        {/* A chain from a link shows even before a token of it has loaded. */}
        {[...new Set([...chains, ...(query.chain ? [query.chain] : [])])].sort().map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
      <select value={query.verdict} onChange={(e) => view.setVerdict(e.target.value)} aria-label="Verdict filter">
        <option value="">All verdicts</option>
        <option value="safe">Safe</option>
        <option value="risky">Risky</option>
        <option value="unverified">Unverified</option>
      </select>
      <div className="view-switch" role="group" aria-label="Show tokens as">
        <button type="button" aria-pressed={!view.table} onClick={() => view.setTable(false)}>
          Cards
        </button>
        <button type="button" aria-pressed={view.table} onClick={() => view.setTable(true)} data-testid="view-table">
          Table
        </button>
      </div>
    </div>
  );
}
