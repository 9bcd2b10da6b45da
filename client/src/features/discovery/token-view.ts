import { useMemo, useState } from 'react';
import { useSearchParams } from 'wouter';
import { ZVerdict, type Token, type Verdict } from '../../../../shared/discovery';

/** The columns a list of tokens sorts by, as DexScreener's table does. */
export const SORT_KEYS = ['age', 'liquidity', 'volume', 'verdict'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDir = 'asc' | 'desc';

// What a first press on a column shows: the youngest pairs, the deepest pools, the busiest, the safest.
export const FIRST_DIR: Record<SortKey, SortDir> = { age: 'asc', liquidity: 'desc', volume: 'desc', verdict: 'asc' };

// Safest first: checked and clean, then unknown, then known bad; within one, the lower score.
const VERDICT_RANK: Record<Verdict, number> = { safe: 0, unverified: 1, risky: 2 };

/** The number a token sorts by, higher = more; null sorts last whichever the direction. */
function sortValue(t: Token, key: SortKey, now: number): number | null {
  switch (key) {
    case 'age':
      return t.pairCreatedAt ? now - t.pairCreatedAt.getTime() : null;
    case 'liquidity':
      return t.liquidityUsd;
    case 'volume':
      return t.volume24hUsd;
    case 'verdict':
      return VERDICT_RANK[t.verdict] * 1000 + t.riskScore;
  }
}

export interface TokenQuery {
  chain: string;
  verdict: Verdict | '';
  search: string;
  sort: SortKey | null;
  dir: SortDir;
}

/** The filtered tokens, in the asked order (without a sort: as given, newest discovered first). */
export function applyQuery(tokens: Token[], q: TokenQuery, now = Date.now()): Token[] {
  const needle = q.search.trim().toLowerCase();
  const shown = tokens.filter(
    (t) =>
      (!q.chain || t.chain === q.chain) &&
      (!q.verdict || t.verdict === q.verdict) &&
      (!needle ||
        t.name.toLowerCase().includes(needle) ||
        t.symbol.toLowerCase().includes(needle) ||
        t.address.toLowerCase().includes(needle)),
  );
  const { sort, dir } = q;
  if (!sort) return shown;
  const sign = dir === 'asc' ? 1 : -1;
  return shown
    .map((t) => ({ t, v: sortValue(t, sort, now) }))
    .sort((a, b) => (a.v === null ? (b.v === null ? 0 : 1) : b.v === null ? -1 : sign * (a.v - b.v)))
    .map(({ t }) => t);
}

/**
 * The page's view of the tokens. Chain, verdict, sort and cards-or-table live in the URL query,
 * so a link or a reload shows the same list; the search box is typing, not a place to link to.
 */
export function useTokenQuery() {
  const [params, setParams] = useSearchParams();
  const [search, setSearch] = useState('');
  const sortParam = params.get('sort');
  const sort = (SORT_KEYS as readonly string[]).includes(sortParam ?? '') ? (sortParam as SortKey) : null;
  const verdict = ZVerdict.safeParse(params.get('verdict')).data ?? '';
  const query: TokenQuery = useMemo(
    () => ({
      chain: params.get('chain') ?? '',
      verdict,
      search,
      sort,
      dir:
        params.get('dir') === 'asc' ? 'asc' : params.get('dir') === 'desc' ? 'desc' : sort ? FIRST_DIR[sort] : 'desc',
    }),
    [params, verdict, search, sort],
  );
  // Replace, not push: each choice is a refinement of one page, not a step Back should undo.
  const set = (changes: Record<string, string | null>) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(changes))
          if (v) next.set(k, v);
          else next.delete(k);
        return next;
      },
      { replace: true },
    );
  return {
    query,
    table: params.get('view') === 'table',
    setChain: (chain: string) => set({ chain }),
    setVerdict: (v: string) => set({ verdict: v }),
    setSearch,
    setTable: (on: boolean) => set({ view: on ? 'table' : null }),
    /** A press on a column: the same column flips its direction, another starts at its first. */
    sortBy: (key: SortKey) =>
      set({ sort: key, dir: query.sort === key ? (query.dir === 'asc' ? 'desc' : 'asc') : FIRST_DIR[key] }),
  };
}
