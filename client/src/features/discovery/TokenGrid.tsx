import { useState } from 'react';
import type { Token } from '../../../../shared/discovery';

const money = (n: number | null) =>
  n == null ? '—' : n >= 1 ? `$${Math.round(n).toLocaleString('en-US')}` : `$${n.toPrecision(3)}`;

function ago(d: Date) {
  const s = Math.max(0, Math.round((Date.now() - d.getTime()) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : `${Math.floor(s / 3600)}h ago`;
}

/** Verdict at a glance; the reasons on hover (title) and on click (for touch screens). */
export function RiskBadge({ token }: { token: Token }) {
  const [open, setOpen] = useState(false);
  const label = !token.verified ? 'Unverified' : token.isSafe ? 'Safe' : 'Risky';
  const tone = !token.verified ? 'warn' : token.isSafe ? 'good' : 'bad';
  const reasons = token.risks.length ? token.risks : ['No risk found'];
  return (
    <span className="risk">
      <button
        type="button"
        className={`badge ${tone}`}
        title={reasons.join('\n')}
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        data-testid="risk-badge"
      >
        {label} · {token.riskScore}
      </button>
      {open && (
        <ul className="risk-reasons" role="list">
          {reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      )}
    </span>
  );
}

export function TokenGrid({ tokens }: { tokens: Token[] }) {
  return (
    <div className="token-grid" data-testid="discovery-grid">
      {tokens.map((t) => (
        <article key={t.id} className="token-card card" data-testid="token-card" data-address={t.address}>
          <header>
            {t.iconUrl ? <img src={t.iconUrl} alt="" width={28} height={28} loading="lazy" onError={(e) => (e.currentTarget.style.visibility = 'hidden')} /> : <span className="token-icon" />}
            <div>
              <strong>{t.symbol}</strong> <span className="muted">{t.name}</span>
              <div className="muted small">
                {t.chain} · {ago(t.discoveredAt)}
              </div>
            </div>
            <RiskBadge token={t} />
          </header>
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
      ))}
    </div>
  );
}
