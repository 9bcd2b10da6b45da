import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { toast } from 'sonner';
import type { Timeframe } from '../../../../shared/market';
import {
  ALERT_TYPES,
  describeCondition,
  MAX_ALERTS_PER_USER,
  type Alert,
  type AlertType,
} from '../../../../shared/market-alerts';
import { DesktopNotificationsToggle } from '../../components/DesktopNotificationsToggle';
import { FieldErrors, fieldErrorsOf, isInputError } from '../../components/FieldErrors';
import { QueryState } from '../../components/QueryState';
import { useTRPC } from '../../trpc';
import { price as showPrice } from './format';

const TYPE_LABELS: Record<AlertType, string> = {
  price_above: 'Price above',
  price_below: 'Price below',
  rsi_above: 'RSI above',
  rsi_below: 'RSI below',
};

interface Draft {
  type: AlertType;
  value: string;
}

const firedText = (a: Alert) =>
  a.firedValue === null
    ? 'Fired'
    : `Fired at ${a.condition.type.startsWith('rsi') ? a.firedValue.toFixed(1) : showPrice(a.firedValue)}`;

/**
 * The user's alerts (armed or fired: re-arm, remove) and a form for a new one on the chart's
 * series, opened at the current price or at the price clicked on the chart (`picked`, bumped
 * by each click). They fire whether or not this page is open; the toast comes from the
 * app-wide notification centre.
 */
export function Alerts(props: {
  symbol: string;
  timeframe: Timeframe;
  price: number | null;
  tickSize: number | null;
  picked: { price: number; n: number } | null;
}) {
  const { symbol, timeframe, price, tickSize, picked } = props;
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.market.alerts.list.queryOptions({ limit: MAX_ALERTS_PER_USER }));
  const [draft, setDraft] = useState<Draft | null>(null);
  const form = useRef<HTMLFormElement>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.market.alerts.list.queryKey() });
  const onError = (e: { message: string }) => toast.error(e.message);
  const create = useMutation(
    trpc.market.alerts.create.mutationOptions({
      onSuccess: (a) => {
        setDraft(null);
        toast.success(`Alert set: ${a.symbol} ${a.timeframe} ${describeCondition(a.condition)}.`);
        void refresh();
      },
      // A refused level is said under its field; anything else (a limit, the exchange) in a toast.
      onError: (e) => isInputError(e) || onError(e),
    }),
  );
  const rearm = useMutation(trpc.market.alerts.rearm.mutationOptions({ onSuccess: refresh, onError }));
  const remove = useMutation(trpc.market.alerts.remove.mutationOptions({ onSuccess: refresh, onError }));

  const rounded = (p: number) => showPrice(p, tickSize);
  const open = (d: Draft) => {
    create.reset();
    setDraft(d);
  };
  // A click on the chart opens the form at that price: above the last price fires on a rise,
  // below on a fall. Set while rendering (React's pattern for state that follows a prop), once per click.
  const [seenPick, setSeenPick] = useState(picked?.n ?? 0);
  if (picked && picked.n !== seenPick) {
    setSeenPick(picked.n);
    setDraft({
      type: price !== null && picked.price < price ? 'price_below' : 'price_above',
      value: rounded(picked.price),
    });
  }
  useEffect(() => {
    if (seenPick) form.current?.scrollIntoView({ block: 'nearest' });
  }, [seenPick]);

  const save = (e: React.FormEvent) => {
    e.preventDefault();
    if (!draft) return;
    // An empty box is sent as NaN, which the server refuses in words like any other bad level.
    const value = draft.value.trim() === '' ? Number.NaN : Number(draft.value);
    create.mutate({ symbol, timeframe, condition: { type: draft.type, value } });
  };
  const errors = fieldErrorsOf(create.error);

  return (
    <div className="card" data-testid="market-alerts">
      <h2>
        My alerts{' '}
        <button
          onClick={() => open({ type: 'price_above', value: price === null ? '' : rounded(price) })}
          title="An alert on the chart's series, at the current price (or click the chart at a price)"
        >
          New alert
        </button>
      </h2>
      {draft && (
        <form ref={form} onSubmit={save} className="alert-form" aria-label="New alert">
          <p className="muted form-note">
            On {symbol} {timeframe}. Price alerts are checked on every update, RSI alerts when a candle closes; each
            fires once, then waits to be re-armed. Tip: click the chart at a price.
          </p>
          <label className="field">
            Condition
            <select value={draft.type} onChange={(e) => setDraft({ ...draft, type: e.target.value as AlertType })}>
              {ALERT_TYPES.map((t) => (
                <option key={t} value={t}>
                  {TYPE_LABELS[t]}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            {draft.type.startsWith('rsi') ? 'RSI level (0–100)' : 'Price'}
            <input
              inputMode="decimal"
              value={draft.value}
              aria-invalid={!!errors.field.condition?.length}
              onChange={(e) => setDraft({ ...draft, value: e.target.value })}
            />
            <FieldErrors messages={errors.field.condition} />
          </label>
          <button className="primary" type="submit" disabled={create.isPending}>
            Create
          </button>
          <button type="button" onClick={() => setDraft(null)}>
            Cancel
          </button>
        </form>
      )}
      <QueryState
        query={list}
        isEmpty={(d) => d.items.length === 0}
        empty="No alerts. Set one to hear when a price or the RSI crosses a level."
      >
        {({ items }) => (
          <div className="table-scroll">
            <table className="stack-on-phone alert-table">
              <thead>
                <tr>
                  <th>Series</th>
                  <th>Condition</th>
                  <th>State</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {items.map((a) => (
                  <tr key={a.id} data-alert-id={a.id}>
                    <td data-label="Series">
                      {a.symbol} {a.timeframe}
                    </td>
                    <td data-label="Condition">{describeCondition(a.condition)}</td>
                    <td data-label="State">
                      <span
                        className={`badge ${a.state === 'fired' ? 'good' : ''}`}
                        data-testid="alert-state"
                        title={a.firedAt ? a.firedAt.toLocaleString() : undefined}
                      >
                        {a.state === 'fired' ? firedText(a) : 'Armed'}
                      </span>
                    </td>
                    <td className="strategy-actions">
                      {a.state === 'fired' && (
                        <button
                          className="link"
                          onClick={() => rearm.mutate({ id: a.id })}
                          aria-label={`Re-arm ${describeCondition(a.condition)} on ${a.symbol} ${a.timeframe}`}
                        >
                          Re-arm
                        </button>
                      )}{' '}
                      <button
                        className="link"
                        onClick={() => remove.mutate({ id: a.id })}
                        aria-label={`Remove ${describeCondition(a.condition)} on ${a.symbol} ${a.timeframe}`}
                      >
                        Remove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
      <DesktopNotificationsToggle what="an alert fires" />
    </div>
  );
}
