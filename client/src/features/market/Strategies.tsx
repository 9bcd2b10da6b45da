import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { toast } from 'sonner';
import {
  MAX_STRATEGIES_PER_USER,
  TIMEFRAMES,
  type Strategy,
  type StrategyRule,
  type Timeframe,
} from '../../../../shared/market';
import { FieldErrors, fieldErrorsOf, isInputError } from '../../components/FieldErrors';
import { QueryState } from '../../components/QueryState';
import { useTRPC } from '../../trpc';

const describeRule = (r: StrategyRule) =>
  r.type === 'rsi'
    ? `RSI < ${r.oversold} / > ${r.overbought}`
    : r.type === 'ema_cross'
      ? 'EMA 9/21 cross'
      : 'MACD/signal cross';

interface Draft {
  id?: number;
  name: string;
  symbol: string;
  timeframe: Timeframe;
  rule: StrategyRule['type'];
  oversold: string;
  overbought: string;
  positionSize: string;
  takeProfitPct: string;
  stopLossPct: string;
}
const blank: Draft = {
  name: '',
  symbol: 'BTCUSDT',
  timeframe: '1m',
  rule: 'rsi',
  oversold: '30',
  overbought: '70',
  positionSize: '1000',
  takeProfitPct: '2',
  stopLossPct: '1',
};
const fromStrategy = (s: Strategy): Draft => ({
  ...s,
  rule: s.rule.type,
  // Kept as they were, so editing another field never resets them.
  oversold: String(s.rule.type === 'rsi' ? s.rule.oversold : 30),
  overbought: String(s.rule.type === 'rsi' ? s.rule.overbought : 70),
  positionSize: String(s.positionSize),
  takeProfitPct: String(s.takeProfitPct),
  stopLossPct: String(s.stopLossPct),
});

/** Strategies of the series on the chart come first, then the others grouped by series. */
export function Strategies({ symbol, timeframe }: { symbol: string; timeframe: Timeframe }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  // One page holds them all: the server keeps at most MAX_STRATEGIES_PER_USER per account.
  const list = useQuery(trpc.market.strategies.list.queryOptions({ limit: MAX_STRATEGIES_PER_USER }));
  const [draft, setDraft] = useState<Draft | null>(null);
  // Bumped by each New or Edit: the form then comes into view with its first field focused,
  // wherever the button was (an Edit far down the list would otherwise open it off screen).
  const [opened, setOpened] = useState(0);
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!opened || !form.current) return;
    form.current.scrollIntoView({ block: 'start' });
    form.current.querySelector('input')?.focus({ preventScroll: true });
  }, [opened]);
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.market.strategies.list.queryKey() });
  const onError = (e: { message: string }) => toast.error(e.message);
  // A refused input is said beside its fields; anything else (a conflict, a limit) in a toast.
  const onSaveError = (e: Parameters<typeof onError>[0] & Parameters<typeof isInputError>[0]) =>
    isInputError(e) || onError(e);
  const create = useMutation(
    trpc.market.strategies.create.mutationOptions({
      onSuccess: () => (setDraft(null), refresh()),
      onError: onSaveError,
    }),
  );
  const update = useMutation(
    trpc.market.strategies.update.mutationOptions({
      onSuccess: () => (setDraft(null), refresh()),
      onError: onSaveError,
    }),
  );
  const toggle = useMutation(trpc.market.strategies.setEnabled.mutationOptions({ onSuccess: refresh, onError }));
  const remove = useMutation(trpc.market.strategies.remove.mutationOptions({ onSuccess: refresh, onError }));

  const save = (e: React.FormEvent) => {
    e.preventDefault();
    if (!draft) return;
    const rule: StrategyRule =
      draft.rule === 'rsi'
        ? { type: 'rsi', oversold: Number(draft.oversold), overbought: Number(draft.overbought) }
        : { type: draft.rule };
    const body = {
      name: draft.name,
      symbol: draft.symbol,
      timeframe: draft.timeframe,
      rule,
      positionSize: Number(draft.positionSize),
      takeProfitPct: Number(draft.takeProfitPct),
      stopLossPct: Number(draft.stopLossPct),
    };
    if (draft.id) update.mutate({ id: draft.id, ...body });
    else create.mutate({ ...body, enabled: false });
  };
  const saving = draft?.id ? update : create;
  const errors = fieldErrorsOf(saving.error);
  // The RSI levels are checked as one rule: its messages sit under the levels.
  const field = (key: keyof Draft, label: string, messages = errors.field[key]) => (
    <label className="field">
      {label}
      <input
        value={String(draft![key] ?? '')}
        aria-invalid={!!messages?.length}
        onChange={(e) => setDraft({ ...draft!, [key]: e.target.value })}
      />
      <FieldErrors messages={messages} />
    </label>
  );
  const open = (d: Draft) => {
    create.reset();
    update.reset();
    setDraft(d);
    setOpened((n) => n + 1);
  };

  return (
    <div className="card" data-testid="market-strategies">
      <h2>
        My strategies <button onClick={() => open({ ...blank, symbol, timeframe })}>New</button>
      </h2>
      {draft && (
        <form
          ref={form}
          onSubmit={save}
          className="strategy-form"
          aria-label={draft.id ? 'Edit strategy' : 'New strategy'}
        >
          {field('name', 'Name')}
          {field('symbol', 'Symbol')}
          <label className="field">
            Timeframe
            <select
              value={draft.timeframe}
              onChange={(e) => setDraft({ ...draft, timeframe: e.target.value as Timeframe })}
            >
              {TIMEFRAMES.map((tf) => (
                <option key={tf}>{tf}</option>
              ))}
            </select>
          </label>
          <label className="field">
            Rule
            <select value={draft.rule} onChange={(e) => setDraft({ ...draft, rule: e.target.value as Draft['rule'] })}>
              <option value="rsi">RSI thresholds</option>
              <option value="ema_cross">EMA cross</option>
              <option value="macd_cross">MACD cross</option>
            </select>
          </label>
          {draft.rule === 'rsi' && field('oversold', 'Buy when RSI below')}
          {draft.rule === 'rsi' && field('overbought', 'Sell when RSI above', errors.field.rule)}
          {field('positionSize', 'Size (USDT)')}
          {field('takeProfitPct', 'Take profit %')}
          {field('stopLossPct', 'Stop loss %')}
          {errors.form.map((m) => (
            <p key={m} className="error" role="alert">
              {m}
            </p>
          ))}
          {draft.id && (
            <p className="muted form-note">
              With an open position, a strategy stays on its series: turn it off first (that closes the position at the
              last price).
            </p>
          )}
          <button className="primary" type="submit">
            {draft.id ? 'Save' : 'Create'}
          </button>
          <button type="button" onClick={() => setDraft(null)}>
            Cancel
          </button>
        </form>
      )}
      <QueryState
        query={list}
        isEmpty={(d) => d.items.length === 0}
        empty="No strategies. Create one to trade on paper."
      >
        {({ items: strategies }) => {
          const here = strategies.filter((s) => s.symbol === symbol && s.timeframe === timeframe);
          const others = strategies.filter((s) => !(s.symbol === symbol && s.timeframe === timeframe));
          // By symbol, then timeframe from short to long.
          const order = (x: Strategy) => `${x.symbol} ${String(TIMEFRAMES.indexOf(x.timeframe)).padStart(2, '0')}`;
          const groups = [
            ...new Map(
              [...others]
                .sort((a, b) => order(a).localeCompare(order(b)))
                .map((x) => [`${x.symbol} ${x.timeframe}`, true]),
            ).keys(),
          ];
          const rows = (list: Strategy[]) =>
            list.map((s) => (
              <tr key={s.id} data-strategy-id={s.id}>
                <td className="strategy-name">{s.name}</td>
                <td className="muted" data-label="Rule">
                  {describeRule(s.rule)} · TP {s.takeProfitPct}% · SL {s.stopLossPct}%
                </td>
                <td data-label="State">
                  <span className={`badge ${s.enabled ? 'good' : ''}`} data-testid="strategy-state">
                    {s.enabled ? 'Trading' : 'Off'}
                  </span>
                </td>
                <td className="strategy-actions">
                  <button
                    className="link"
                    onClick={() => toggle.mutate({ id: s.id, enabled: !s.enabled })}
                    aria-label={`${s.enabled ? 'Turn off' : 'Turn on'} ${s.name} (${s.symbol} ${s.timeframe})`}
                  >
                    {s.enabled ? 'Turn off' : 'Turn on'}
                  </button>{' '}
                  <button className="link" onClick={() => open(fromStrategy(s))}>
                    Edit
                  </button>{' '}
                  <button
                    className="link"
                    onClick={() =>
                      confirm(
                        `Delete the strategy "${s.name}" (${s.symbol} ${s.timeframe})? An open position is closed at the last price.`,
                      ) && remove.mutate({ id: s.id })
                    }
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ));
          const group = (title: string, list: Strategy[], current = false) => (
            <tbody key={title} className={current ? 'strategy-group current' : 'strategy-group'}>
              <tr>
                <th colSpan={4} scope="rowgroup">
                  {title}
                  {current && <span className="muted"> · on the chart</span>}
                </th>
              </tr>
              {list.length ? (
                rows(list)
              ) : (
                <tr>
                  <td colSpan={4} className="muted">
                    No strategy on this series yet.
                  </td>
                </tr>
              )}
            </tbody>
          );
          return (
            <div className="table-scroll">
              <table className="strategy-table stack-on-phone">
                {group(`${symbol} ${timeframe}`, here, true)}
                {groups.map((g) =>
                  group(
                    g,
                    others.filter((s) => `${s.symbol} ${s.timeframe}` === g),
                  ),
                )}
              </table>
            </div>
          );
        }}
      </QueryState>
    </div>
  );
}
