import { Fragment, useState } from 'react';
import type { Token } from '../../../../shared/discovery';
import { age, money } from './format';
import { RiskBadge, RiskReasons, TokenIcon } from './TokenGrid';
import type { SortDir, SortKey } from './token-view';

function SortHeader(props: {
  col: SortKey;
  label: string;
  sort: SortKey | null;
  dir: SortDir;
  onSort: (k: SortKey) => void;
}) {
  const active = props.sort === props.col;
  return (
    <th
      scope="col"
      className={props.col === 'liquidity' || props.col === 'volume' ? 'num' : undefined}
      aria-sort={active ? (props.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
    >
      <button type="button" className="sort" onClick={() => props.onSort(props.col)} data-testid={`sort-${props.col}`}>
        {props.label}
        <span aria-hidden="true">{active ? (props.dir === 'asc' ? ' ▲' : ' ▼') : ''}</span>
      </button>
    </th>
  );
}

function Row({ token: t }: { token: Token }) {
  const [open, setOpen] = useState(false);
  return (
    <Fragment>
      <tr data-testid="token-row" data-address={t.address}>
        <td>
          <span className="token-cell">
            <TokenIcon token={t} />
            <span>
              <strong>{t.symbol}</strong> <span className="muted small">{t.name}</span>
            </span>
          </span>
        </td>
        <td>{t.chain}</td>
        <td data-testid="cell-age">{age(t.pairCreatedAt)}</td>
        <td className="num">{money(t.priceUsd)}</td>
        <td className="num" data-testid="cell-liquidity">
          {money(t.liquidityUsd)}
        </td>
        <td className="num">{money(t.volume24hUsd)}</td>
        <td>
          <RiskBadge token={t} open={open} onToggle={() => setOpen((o) => !o)} />
        </td>
        <td>
          <a
            href={t.url ?? `https://dexscreener.com/${t.chain}/${t.address}`}
            target="_blank"
            rel="noreferrer noopener"
          >
            DexScreener ↗
          </a>
        </td>
      </tr>
      {open && (
        <tr className="reasons-row">
          <td colSpan={8}>
            <RiskReasons token={t} />
          </td>
        </tr>
      )}
    </Fragment>
  );
}

/** The tokens as rows, sortable by the columns a DexScreener user sorts by. */
export function TokenTable(props: {
  tokens: Token[];
  sort: SortKey | null;
  dir: SortDir;
  onSort: (k: SortKey) => void;
}) {
  const head = { sort: props.sort, dir: props.dir, onSort: props.onSort };
  return (
    <div className="token-table-wrap">
      <table className="token-table" data-testid="discovery-table">
        <thead>
          <tr>
            <th scope="col">Token</th>
            <th scope="col">Chain</th>
            <SortHeader col="age" label="Pair age" {...head} />
            <th scope="col" className="num">
              Price
            </th>
            <SortHeader col="liquidity" label="Liquidity" {...head} />
            <SortHeader col="volume" label="24h volume" {...head} />
            <SortHeader col="verdict" label="Verdict" {...head} />
            <th scope="col">Link</th>
          </tr>
        </thead>
        <tbody>
          {props.tokens.map((t) => (
            <Row key={t.id} token={t} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
