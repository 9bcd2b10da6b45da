import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { AnalyzeOutput } from '../../../../shared/vinted';
import { useTRPC } from '../../trpc';

function money(v: number | null, currency: string | null) {
  if (v === null) return '–';
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency ?? 'EUR' }).format(v);
  } catch {
    return `${v.toFixed(2)} ${currency ?? ''}`;
  }
}

function Histogram({ result }: { result: AnalyzeOutput }) {
  const top = Math.max(1, ...result.histogram.map((b) => b.count));
  return (
    <div className="vault-histogram" data-testid="vault-histogram" role="img" aria-label="Price distribution">
      {result.histogram.map((b) => (
        <div
          key={b.from}
          className="bar"
          style={{ height: `${(b.count / top) * 100}%` }}
          title={`${money(b.from, result.currency)}–${money(b.to, result.currency)}: ${b.count}`}
        />
      ))}
    </div>
  );
}

/** Market prices for a search, read through the vault's live Vinted session. */
export function PriceAnalysis() {
  const trpc = useTRPC();
  const [query, setQuery] = useState('');
  const analyze = useMutation(trpc.vinted.analyze.mutationOptions());
  const r = analyze.data;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    analyze.mutate({ query });
  };
  return (
    <div className="vault-analysis">
      <form className="vault-form-row" onSubmit={submit}>
        <input
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          placeholder="e.g. Levi's 501"
          maxLength={100}
          data-testid="vault-analyze-query"
        />
        <button
          className="primary"
          type="submit"
          disabled={analyze.isPending || !query.trim()}
          data-testid="vault-analyze"
        >
          {analyze.isPending ? 'Analysing…' : 'Analyse prices'}
        </button>
      </form>
      {analyze.error && <p className="error">{analyze.error.message}</p>}
      {r && (
        <div data-testid="vault-analysis-result" data-count={r.count}>
          {r.count === 0 ? (
            <p className="muted">No priced items for “{r.query}”.</p>
          ) : (
            <>
              <dl className="vault-figures">
                <div>
                  <dt>items</dt>
                  <dd>
                    {r.count}
                    {r.totalEntries > r.count && <span className="muted"> of {r.totalEntries}</span>}
                  </dd>
                </div>
                <div>
                  <dt>min</dt>
                  <dd>{money(r.min, r.currency)}</dd>
                </div>
                <div>
                  <dt>median</dt>
                  <dd data-testid="vault-median">{money(r.median, r.currency)}</dd>
                </div>
                <div>
                  <dt>max</dt>
                  <dd>{money(r.max, r.currency)}</dd>
                </div>
              </dl>
              <Histogram result={r} />
              <ul className="vault-sample">
                {r.sample.slice(0, 6).map((s) => (
                  <li key={s.id}>
                    {s.url ? (
                      <a href={s.url} target="_blank" rel="noreferrer">
                        {s.title}
                      </a>
                    ) : (
                      s.title
                    )}{' '}
                    <span className="muted">{money(s.price, s.currency)}</span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </div>
  );
}
