import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '../../log';

/** One ciphertext as stored: every field base64 except the key id. */
export interface Sealed {
  keyId: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

export interface Keyring {
  currentId: string;
  keys: Map<string, Buffer>;
}

export class VaultKeyError extends Error {
  override name = 'VaultKeyError';
}

export const KEY_FILE = 'vault.key';

/** A short public name for a key: it tells which key sealed a row without revealing the key. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('hubcast-vault-key-id').update(key).digest('hex').slice(0, 12);
}

export function keyringFrom(current: Buffer, previous: Buffer[] = []): Keyring {
  const keys = new Map<string, Buffer>();
  for (const k of [current, ...previous]) keys.set(keyIdOf(k), k);
  return { currentId: keyIdOf(current), keys };
}

/**
 * VAULT_KEY (and VAULT_PREVIOUS_KEYS) when set. Otherwise a key generated once into the data
 * directory, mode 600, so the two-command start works; production sets VAULT_KEY, because a key
 * next to the database it protects guards only against someone who copies the database alone.
 */
export function loadKeyring(opts: {
  vaultKey: string | undefined;
  previousKeys: string[];
  dataDir: string;
  log: Logger;
}): Keyring {
  const previous = opts.previousKeys.map((k) => Buffer.from(k, 'base64'));
  if (opts.vaultKey) return keyringFrom(Buffer.from(opts.vaultKey, 'base64'), previous);
  const file = resolve(join(opts.dataDir, KEY_FILE));
  let key: Buffer;
  try {
    key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  } catch {
    mkdirSync(opts.dataDir, { recursive: true });
    key = randomBytes(32);
    try {
      // 'wx': two processes starting together must not each write (and use) a different key.
      writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch {
      key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    }
  }
  if (key.length !== 32)
    throw new VaultKeyError(`${file} does not hold a 32-byte base64 key: restore it from a backup, or set VAULT_KEY.`);
  chmodSync(file, 0o600);
  opts.log.warn(
    { keyFile: file },
    `VAULT_KEY is not set: vault secrets are encrypted with the generated key in ${file}. Set VAULT_KEY in production, and back the key up apart from the database: without it the sessions cannot be read.`,
  );
  return keyringFrom(key, previous);
}

/** AES-256-GCM under the current key with a fresh 12-byte IV; `context` is bound as associated data. */
export function seal(ring: Keyring, plaintext: string, context: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', ring.keys.get(ring.currentId)!, iv);
  cipher.setAAD(Buffer.from(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    keyId: ring.currentId,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

export function open(ring: Keyring, sealed: Sealed, context: string): string {
  const key = ring.keys.get(sealed.keyId);
  if (!key) {
    throw new VaultKeyError(
      `A vault secret is encrypted under key ${sealed.keyId}, which is neither VAULT_KEY nor listed in VAULT_PREVIOUS_KEYS: add the old key to VAULT_PREVIOUS_KEYS.`,
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new VaultKeyError(
      `A vault secret sealed under key ${sealed.keyId} failed its integrity check: the row was altered or copied between sessions; save that session again.`,
    );
  }
}
