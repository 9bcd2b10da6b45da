import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../../config';
import type { Database } from '../../db/client';
import { vaultSessions } from '../../db/schema';
import { KEY_FILE, type Keyring } from './crypto';
import { SecretBox } from './secret-box';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do about it, when not ok. */
  fix?: string;
}

/** Where the vault key comes from, without creating one (diagnose must not change anything). */
export function keySource(config: Config): { ok: boolean; detail: string; fix?: string } {
  if (config.VAULT_KEY)
    return {
      ok: true,
      detail: `VAULT_KEY is set${config.VAULT_PREVIOUS_KEYS.length ? `, with ${config.VAULT_PREVIOUS_KEYS.length} previous key(s)` : ''}`,
    };
  const file = resolve(join(config.DATA_DIR, KEY_FILE));
  if (existsSync(file)) return { ok: true, detail: `generated key file ${file} (set VAULT_KEY in production)` };
  return {
    ok: false,
    detail: `no VAULT_KEY and no ${file}`,
    fix: 'start the server once to generate the key file, or set VAULT_KEY (openssl rand -base64 32)',
  };
}

/** Every session opens with the configured keys; its status and last error, in words. */
export async function checkSessions(database: Database, ring: Keyring): Promise<Check[]> {
  const box = new SecretBox(ring);
  const rows = await database.db.select().from(vaultSessions);
  if (rows.length === 0)
    return [{ name: 'sessions', ok: true, detail: 'no session saved yet (add one on the Vault page)' }];
  return rows.map((row) => {
    const name = `session ${row.id} ${row.provider}/${row.label}`;
    if (!box.canOpen(row.secretKeyId)) {
      return {
        name,
        ok: false,
        detail: `sealed under key ${row.secretKeyId}, which is not configured`,
        fix: 'put the old key in VAULT_PREVIOUS_KEYS, or save the session again',
      };
    }
    try {
      box.open(row);
    } catch (err) {
      return {
        name,
        ok: false,
        detail: err instanceof Error ? err.message : 'cannot be opened',
        fix: 'save the session again',
      };
    }
    const expired = row.expiresAt !== null && row.expiresAt.getTime() < Date.now();
    const ok = row.status === 'active' && !expired;
    const detail = `${expired && row.status === 'active' ? 'expired' : row.status}${row.expiresAt ? `, expires ${row.expiresAt.toISOString()}` : ''}${row.lastError ? ` — ${row.lastError}` : ''}`;
    return {
      name,
      ok,
      detail,
      fix: ok ? undefined : 'run `npm run cli -- vault refresh <id>`, or paste a fresh credential on the Vault page',
    };
  });
}

/** Each upstream answers at all (any HTTP status): DNS, proxy and firewall problems show here. */
export async function checkUpstreams(config: Config): Promise<Check[]> {
  const targets = {
    VINTED_URL: `${config.VINTED_URL}/`,
    VINTED_API_URL: `${config.VINTED_API_URL}/svc-catalogue/items`,
    GOPLUS_URL: `${config.GOPLUS_URL}/api/v1/supported_chains`,
  };
  return Promise.all(
    Object.entries(targets).map(async ([name, url]): Promise<Check> => {
      try {
        const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
        await res.body?.cancel();
        return { name, ok: true, detail: `${new URL(url).origin} answers (HTTP ${res.status})` };
      } catch {
        return {
          name,
          ok: false,
          detail: `${new URL(url).origin} does not answer within 5 s`,
          fix: `check ${name}, DNS, the proxy and the firewall`,
        };
      }
    }),
  );
}
