import { useState } from 'react';
import type { Token } from '../../../../shared/discovery';
import { VERDICT_RULES } from '../../../../shared/discovery-risk';
import { ago, money } from './format';

const LABEL = { safe: 'Safe', risky: 'Risky', unverified: 'Unverified' } as const;
const TONE = { safe: 'good', risky: 'bad', unverified: 'warn' } as const;
// The same words as the page's explanation, from the rules the server scores with.
const MEANING = VERDICT_RULES;

/** Verdict and score at a glance; pressing it opens the reasons below the header (never over the name). */
export function RiskBadge({ token, open, onToggle }: { token: Token; open: boolean; onToggle: () => void }) {
  return (
    <button
      type="button"
      className={`badge ${TONE[token.verdict]}`}
      title={`${MEANING[token.verdict]} Risk score ${token.riskScore} of 100 (higher is riskier).`}
      aria-expanded={open}
      aria-controls={`risk-${token.id}`}
      onClick={onToggle}
      data-testid="risk-badge"
      data-verdict={token.verdict}
    >
      {LABEL[token.verdict]} · {token.riskScore}
    </button>
  );
}

export function RiskReasons({ token }: { token: Token }) {
  return (
    <div className="risk-reasons" id={`risk-${token.id}`} data-testid="risk-reasons">
      <p>
        <strong>Risk {token.riskScore}/100</strong> (0 = nothing found, 100 = avoid). {MEANING[token.verdict]}
      </p>
      <ul>
        {(token.risks.length ? token.risks : ['No risk found']).map((r) => (
          <li key={r}>{r}</li>
        ))}
      </ul>
    </div>
  );
}

/** The token's icon, or its initial when there is none or it fails to load: never an empty gap. */
export function TokenIcon({ token }: { token: Token }) {
  const [failed, setFailed] = useState(false);
  if (!token.iconUrl || failed) {
    return (
      <span className="token-icon" aria-hidden="true" data-testid="token-icon-fallback">
        {(token.symbol[0] ?? '?').toUpperCase()}
      </span>
    );
  }
  return (
    <img
      className="token-icon"
      src={token.iconUrl}
      alt=""
      width={28}
      height={28}
      loading="lazy"
      onError={() => setFailed(true)}
      data-testid="token-icon"
    />
  );
}

function TokenCard({ token: t }: { token: Token }) {
  const [open, setOpen] = useState(false);
  return (
    <article className="token-card card" data-testid="token-card" data-address={t.address}>
      <header>
        <TokenIcon token={t} />
        <div>
          <strong>{t.symbol}</strong> <span className="muted">{t.name}</span>
          <div className="muted small">
            {t.chain} · {ago(t.discoveredAt)}
          </div>
        </div>
        <RiskBadge token={t} open={open} onToggle={() => setOpen((o) => !o)} />
      </header>
      {open && <RiskReasons token={t} />}
      <dl>
        <dt>Price</dt>
        <dd>{money(t.priceUsd)}</dd>
        <dt>Liquidity</dt>
        <dd>{money(t.liquidityUsd)}</dd>
        <dt>24h volume</dt>
        <dd>{money(t.volume24hUsd)}</dd>
      </dl>
      <a href={t.url ?? `https://dexscreener.com/${t.chain}/${t.address}`} target="_blank" rel="noreferrer noopener">
        View on DexScreener ↗
      </a>
    </article>
  );
}

export function TokenGrid({ tokens }: { tokens: Token[] }) {
  return (
    <div className="token-grid" data-testid="discovery-grid">
      {tokens.map((t) => (
        <TokenCard key={t.id} token={t} />
      ))}
    </div>
  );
}
