import { useEffect, useState } from 'react';

function span(ms: number) {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  return `${m}m ${String(s % 60).padStart(2, '0')}s`;
}

/** A live "expires in …" that ticks every second; the absolute time is in the tooltip. */
export function Countdown({ at }: { at: Date | null }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  if (!at)
    return (
      <span className="muted" data-testid="vault-expiry">
        no expiry known
      </span>
    );
  const left = at.getTime() - now;
  return (
    <span
      data-testid="vault-expiry"
      data-expires-at={at.toISOString()}
      title={at.toLocaleString()}
      className={left <= 0 ? 'error' : left < 5 * 60_000 ? 'warn' : ''}
    >
      {left > 0 ? `expires in ${span(left)}` : `expired ${span(left)} ago`}
    </span>
  );
}
