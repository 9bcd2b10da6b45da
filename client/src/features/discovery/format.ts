export const money = (n: number | null) =>
  n == null ? '—' : n >= 1 ? `$${Math.round(n).toLocaleString('en-US')}` : `$${n.toPrecision(3)}`;

export function ago(d: Date) {
  const s = Math.max(0, Math.round((Date.now() - d.getTime()) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : `${Math.floor(s / 3600)}h ago`;
}

/** A pair's age as DexScreener's table shows it: 45s, 12m, 5h, 3d. */
export function age(d: Date | null) {
  if (!d) return '—';
  const s = Math.max(0, Math.round((Date.now() - d.getTime()) / 1000));
  return s < 60
    ? `${s}s`
    : s < 3600
      ? `${Math.floor(s / 60)}m`
      : s < 86_400
        ? `${Math.floor(s / 3600)}h`
        : `${Math.floor(s / 86_400)}d`;
}
