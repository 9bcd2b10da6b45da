import { open, seal, VaultKeyError, type Keyring } from './crypto';
import type { Secrets } from './providers/types';

interface SealedColumns {
  secretKeyId: string;
  secretIv: string;
  secretTag: string;
  secretCiphertext: string;
}

/**
 * Secrets ⇄ the four sealed columns of a vault row. The provider name is bound as associated
 * data, so a ciphertext copied onto another provider's row fails to open.
 */
export class SecretBox {
  constructor(private readonly ring: Keyring) {}

  get currentKeyId() {
    return this.ring.currentId;
  }

  seal(provider: string, secrets: Secrets): SealedColumns {
    const s = seal(this.ring, JSON.stringify(secrets), `vault:${provider}`);
    return { secretKeyId: s.keyId, secretIv: s.iv, secretTag: s.tag, secretCiphertext: s.ciphertext };
  }

  open(row: SealedColumns & { provider: string }): Secrets {
    const plain = open(
      this.ring,
      { keyId: row.secretKeyId, iv: row.secretIv, tag: row.secretTag, ciphertext: row.secretCiphertext },
      `vault:${row.provider}`,
    );
    return JSON.parse(plain) as Secrets;
  }

  canOpen(keyId: string) {
    return this.ring.keys.has(keyId);
  }

  isKeyError(err: unknown): boolean {
    return err instanceof VaultKeyError;
  }
}
