import type { Provider } from './providers/types';
import type { SecretBox } from './secret-box';
import type { SessionRow } from './store';

// A session is refreshed this long before its expiry, or a fifth of its token's lifetime when
// that is shorter: a two-minute token is not refreshed the moment it arrives.
const LEAD_MS = 60_000;
// Never sooner than this after its last refresh: a provider handing out tokens that are
// already (nearly) expired must not set off a refresh loop.
const MIN_GAP_MS = 30_000;

/**
 * Whether the scheduler may refresh this row by itself: not while it waits for a person (bad
 * key, missing configuration) or backs off after a failure.
 */
export function refreshable(row: SessionRow, providers: Map<string, Provider>, box: SecretBox, now: number): boolean {
  if (row.status === 'requires_configuration' || (row.retryAfter && row.retryAfter.getTime() > now)) return false;
  return providers.has(row.provider) && box.canOpen(row.secretKeyId);
}

/**
 * When an active session should be refreshed to stay ahead of its expiry; null when it has none
 * (a failed session waits for its back-off and the next regular run instead).
 */
export function dueAt(row: SessionRow): number | null {
  if (row.status !== 'active' || row.expiresAt === null) return null;
  const expires = row.expiresAt.getTime();
  const refreshed = row.lastRefreshAt?.getTime();
  // Without a refresh of its own the token's lifetime is unknown: the full lead.
  const lead = refreshed === undefined ? LEAD_MS : Math.max(0, Math.min(LEAD_MS, (expires - refreshed) / 5));
  return Math.max(expires - lead, refreshed === undefined ? -Infinity : refreshed + MIN_GAP_MS);
}

/** The earliest due time among the rows the scheduler may refresh (null: none expires). */
export function nextDue(
  rows: SessionRow[],
  providers: Map<string, Provider>,
  box: SecretBox,
  now: number,
): number | null {
  let next: number | null = null;
  for (const row of rows) {
    const at = refreshable(row, providers, box, now) ? dueAt(row) : null;
    if (at !== null && (next === null || at < next)) next = at;
  }
  return next;
}
