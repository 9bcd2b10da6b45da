/** Decimals a tick size shows: 0.01 → 2, 0.00001 → 5, 1 → 0, 0.5 → 1. */
export const tickDecimals = (tick: number) => Math.max(0, Math.ceil(-Math.log10(tick) - 1e-9));

/**
 * Prices as the exchange quotes them: rounded to the symbol's tick size when it is known, else
 * eight significant digits at most (no float noise like 84000.00000001).
 */
export const price = (n: number | null | undefined, tick?: number | null) => {
  if (n == null) return '—';
  if (!tick) return String(Number(n.toPrecision(8)));
  return (Math.round(n / tick) * tick).toFixed(tickDecimals(tick));
};

/** Quantities of a paper position: six significant digits, as the CLI prints them. */
export const quantity = (n: number) => String(Number(n.toPrecision(6)));

export const money = (n: number | null) => (n === null ? '—' : n.toFixed(2));

export const pnlClass = (n: number | null) => (n === null ? '' : n >= 0 ? 'pnl-up' : 'pnl-down');
