import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { vaultSessions } from '../../db/schema';
import type { SecretBox } from './secret-box';

export interface RekeyReport {
  total: number;
  rekeyed: number;
  alreadyCurrent: number;
  /** Rows no configured key opens: they keep their ciphertext and need a fresh save. */
  unreadable: { id: number; provider: string; label: string; reason: string }[];
}

/**
 * Re-seals every session under the current key (VAULT_KEY), so older keys can leave
 * VAULT_PREVIOUS_KEYS. Each write is conditional on the ciphertext it read: a refresh that
 * re-sealed the row meanwhile (already under the current key) is never overwritten.
 */
export async function rekey(db: Db, box: SecretBox): Promise<RekeyReport> {
  const rows = await db.select().from(vaultSessions);
  const report: RekeyReport = { total: rows.length, rekeyed: 0, alreadyCurrent: 0, unreadable: [] };
  for (const row of rows) {
    if (row.secretKeyId === box.currentKeyId) {
      report.alreadyCurrent++;
      continue;
    }
    try {
      const sealed = box.seal(row.provider, box.open(row));
      await db
        .update(vaultSessions)
        .set(sealed)
        .where(and(eq(vaultSessions.id, row.id), eq(vaultSessions.secretCiphertext, row.secretCiphertext)));
      report.rekeyed++;
    } catch (err) {
      report.unreadable.push({
        id: row.id,
        provider: row.provider,
        label: row.label,
        reason: err instanceof Error ? err.message : 'unreadable',
      });
    }
  }
  return report;
}
