import type { VaultProvider } from '../../../../shared/vault';

/** What a provider stores, sealed as one JSON object: cookie names or key fields → values. */
export type Secrets = Record<string, string>;

/**
 * Why a refresh failed, in words an admin can act on. `revoked`: the stored credential is dead
 * (paste a new one); `configuration`: something is missing or wrong in what was saved or in
 * the environment; `transient`: the upstream or the network failed, a later attempt may work.
 */
export class RefreshError extends Error {
  override name = 'RefreshError';
  constructor(
    readonly kind: 'revoked' | 'configuration' | 'transient',
    message: string,
  ) {
    super(message);
  }
}

/** Bad secrets on save; the message says what to paste instead. */
export class SecretsInputError extends Error {
  override name = 'SecretsInputError';
}

/** One upstream's credential rules. Adding a provider means one more of these, nothing else. */
export interface Provider {
  name: VaultProvider;
  /** Checks what an admin saved and returns what to store; throws SecretsInputError. */
  parseSecrets(input: Record<string, string>): Secrets;
  /** When the usable credential stops working; null when unknown (or none yet). */
  expiresAt(secrets: Secrets): Date | null;
  /** True when the stored secrets hold nothing usable yet, so saving should refresh at once. */
  needsRefresh(secrets: Secrets): boolean;
  /** Talks to the upstream; returns the new secrets or throws RefreshError. */
  refresh(secrets: Secrets): Promise<Secrets>;
  /** Is this error a consumer's "your credential expired" answer (worth one refresh and retry)? */
  isExpiredAnswer(err: unknown): boolean;
}
