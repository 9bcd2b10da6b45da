import type { Config } from '../../config';
import { AppError } from '../../errors';
import type { Db } from '../../db/client';
import type { Logger } from '../../log';
import { guarded } from '../../guarded';
import { topic, type EventBus } from '../../realtime/bus';
import type { StreamLog } from '../../realtime/record';
import type { StoredEvent } from '../../realtime/resumable';
import { sharedTopic, type StreamScope } from '../../realtime/streams';
import type {
  RefreshResult,
  SaveSessionInput,
  VaultEvent,
  VaultProvider,
  VaultScheduler,
  VaultSession,
} from '../../../shared/vault';
import type { Keyring } from './crypto';
import { goplusProvider } from './providers/goplus';
import { SecretsInputError, type Provider, type Secrets } from './providers/types';
import { vintedProvider } from './providers/vinted';
import { NoSuchSessionError, Refresher } from './refresh';
import { Scheduler } from './scheduler';
import { SecretBox } from './secret-box';
import { publicSession, VAULT_STREAM, VaultStore, type SessionRow } from './store';
import { UpstreamError } from '../../upstream/error';
import { upstreamPolicy } from '../../upstream/policy';

const vaultTopic = topic<StoredEvent<VaultEvent>>(VAULT_STREAM);
// A credential this close to its expiry is refreshed before it is handed out.
const HAND_OUT_MARGIN_MS = 15_000;

export interface VaultDeps {
  config: Config;
  db: Db;
  streams: StreamLog;
  databaseKind: 'pglite' | 'postgres';
  bus: EventBus;
  log: Logger;
  keyring: Keyring;
  /** The clock for expiries and schedules; tests share a faster one with the fake upstreams. */
  now?: () => number;
  /** Replaces the built-in providers (tests). */
  providers?: Provider[];
  /** The cluster singleton whose leader runs the scheduled sweeps (absent: this process always does). */
  schedulerLeader?: { isLeader(): boolean };
}

export interface Credential {
  sessionId: number;
  version: number;
  secrets: Secrets;
}

/** No usable credential for a provider: the message says what an admin has to do. */
export class CredentialUnavailableError extends Error {
  override name = 'CredentialUnavailableError';
}

/**
 * The credential vault: admins save upstream sessions (sealed at rest), the scheduler and
 * consumers keep them fresh, every attempt is recorded and pushed on `vault.events`.
 * Consumers (the Vinted analysis, discovery's GoPlus client) call `withCredential`.
 */
export class VaultService {
  readonly store: VaultStore;
  readonly box: SecretBox;
  readonly refresher: Refresher;
  readonly scheduler: Scheduler;
  readonly now: () => number;
  private readonly providers: Map<string, Provider>;

  constructor(private readonly deps: VaultDeps) {
    const { config, db, log, databaseKind } = deps;
    this.now = deps.now ?? (() => Date.now());
    this.store = new VaultStore(db);
    this.box = new SecretBox(deps.keyring);
    const policy = upstreamPolicy(config);
    const builtIn = [
      vintedProvider({ webUrl: config.VINTED_URL, timeoutMs: policy.timeoutMs }),
      goplusProvider({ baseUrl: config.GOPLUS_URL, policy, now: this.now }),
    ];
    this.providers = new Map((deps.providers ?? builtIn).map((p) => [p.name, p]));
    const publish = (e: StoredEvent<VaultEvent>) => deps.bus.publish(vaultTopic, e);
    this.refresher = new Refresher({
      db,
      streams: deps.streams,
      databaseKind,
      store: this.store,
      box: this.box,
      providers: this.providers,
      log,
      now: this.now,
      publish,
    });
    this.scheduler = new Scheduler({
      db,
      databaseKind,
      store: this.store,
      box: this.box,
      providers: this.providers,
      refresher: this.refresher,
      log,
      now: this.now,
      minuteMs: config.VAULT_MINUTE_MS,
      defaults: { active: config.VAULT_AUTO_REFRESH_ENABLED, intervalMinutes: config.VAULT_REFRESH_INTERVAL_MINUTES },
      changed: (scheduler) => this.emit({ type: 'scheduler', scheduler }, null),
      leader: deps.schedulerLeader,
    });
    // An admin's start/stop on another instance reaches this one's schedule through the bus; so
    // does a session saved or refreshed anywhere, which may be due before the next regular run.
    this.unsubscribeScheduler = deps.bus.subscribe(
      vaultTopic,
      guarded(
        log,
        'vault scheduler reload',
        ({ data: e }: { data: { type: string } }) =>
          e.type === 'scheduler' ? this.scheduler.reload() : this.scheduler.replan(),
        // The vault's errors may quote what it was handling: their class name only.
        { nameOnly: true },
      ),
    );
  }

  private readonly unsubscribeScheduler: () => void;

  async start() {
    await this.seedGoPlus();
    await this.scheduler.start();
  }

  async sessions(): Promise<VaultSession[]> {
    return (await this.store.list()).map((r) => publicSession(r, this.now()));
  }

  async saveSession(input: SaveSessionInput): Promise<VaultSession> {
    const provider = this.providers.get(input.provider)!;
    let secrets: Secrets;
    try {
      secrets = provider.parseSecrets(input.secrets);
    } catch (err) {
      if (err instanceof SecretsInputError) throw new AppError('BAD_REQUEST', err.message);
      throw err;
    }
    let row = await this.store.upsert({
      provider: input.provider,
      label: input.label,
      status: 'active',
      ...this.box.seal(input.provider, secrets),
      expiresAt: provider.expiresAt(secrets),
      lastError: null,
      failures: 0,
      retryAfter: null,
    });
    await this.emit({ type: 'session_saved', session: publicSession(row, this.now()) }, row.id);
    // A key pair is not a credential yet: fetch its first token now, so the admin sees at once whether it works.
    if (provider.needsRefresh(secrets)) return (await this.refresher.refresh(row.id, 'save', row.version)).session;
    row = (await this.store.get(row.id))!;
    return publicSession(row, this.now());
  }

  async refreshNow(sessionId: number): Promise<RefreshResult> {
    try {
      return await this.refresher.refresh(sessionId, 'manual');
    } catch (err) {
      if (err instanceof NoSuchSessionError) throw new AppError('NOT_FOUND', err.message);
      throw err;
    }
  }

  schedulerState(): VaultScheduler {
    return this.scheduler.state();
  }

  controlScheduler(action: 'start' | 'stop' | 'restart', intervalMinutes: number | undefined, userId: string) {
    return this.scheduler.control(action, intervalMinutes, userId);
  }

  attempts(sessionId: number | undefined, limit: number) {
    return this.store.attempts(sessionId, limit);
  }

  events(lastEventId: string | null | undefined, scope: StreamScope) {
    return sharedTopic<VaultEvent>(scope, {
      bus: this.deps.bus,
      topic: vaultTopic,
      lastEventId,
      replay: (afterId, limit) => this.store.replay(afterId, limit),
      head: () => this.store.head(),
    });
  }

  /** The session named by `label`, or without one the provider's best (VaultStore.pick). */
  private session(provider: VaultProvider, label: string | undefined) {
    return label === undefined ? this.store.pick(provider) : this.store.find(provider, label);
  }

  /** Is there a session a consumer could use (even one that needs a refresh first)? */
  async has(provider: VaultProvider, label?: string) {
    return (await this.session(provider, label)) !== undefined;
  }

  /**
   * A fresh credential: refreshed first when it has no token yet or is about to expire. Without a
   * label, the provider's active session, whatever its label.
   */
  async credential(providerName: VaultProvider, label?: string): Promise<Credential> {
    const provider = this.providers.get(providerName)!;
    let row = await this.session(providerName, label);
    if (!row)
      throw new CredentialUnavailableError(
        label === undefined
          ? `No ${providerName} session in the vault: an admin must add one on the Vault page.`
          : `No ${providerName} session "${label}" in the vault: an admin must add one on the Vault page.`,
      );
    const named = row.label;
    const unavailable = (why: string) =>
      new CredentialUnavailableError(`The ${providerName} session "${named}" is not usable: ${why}`);
    const open = (r: SessionRow) => {
      try {
        return this.box.open(r);
      } catch (err) {
        if (this.box.isKeyError(err)) throw unavailable((err as Error).message);
        throw err;
      }
    };
    let secrets = open(row);
    const expiresAt = provider.expiresAt(secrets)?.getTime();
    // A fifth of the token's lifetime, at most the margin: a one-second token is not renewed on every call.
    const lifetime = expiresAt !== undefined && row.lastRefreshAt ? expiresAt - row.lastRefreshAt.getTime() : Infinity;
    const margin = Math.min(HAND_OUT_MARGIN_MS, lifetime / 5);
    const stale = provider.needsRefresh(secrets) || (expiresAt !== undefined && expiresAt - this.now() < margin);
    if (stale && row.status !== 'requires_configuration') {
      await this.refresher.refresh(row.id, 'expiring', row.version);
      row = (await this.store.get(row.id))!;
      secrets = open(row);
    }
    const until = provider.expiresAt(secrets)?.getTime();
    if (provider.needsRefresh(secrets) || (until !== undefined && until <= this.now()))
      throw unavailable(row.lastError ?? 'it expired');
    return { sessionId: row.id, version: row.version, secrets };
  }

  /**
   * Runs `use` with a fresh credential. An answer the provider calls an expiry (a 401) gets
   * one refresh and one retry, so the caller never sees a token that merely aged out.
   */
  async withCredential<T>(
    providerName: VaultProvider,
    use: (secrets: Secrets) => Promise<T>,
    label?: string,
  ): Promise<T> {
    const provider = this.providers.get(providerName)!;
    const first = await this.credential(providerName, label);
    try {
      return await use(first.secrets);
    } catch (err) {
      if (!provider.isExpiredAnswer(err)) throw err;
      const { outcome, session } = await this.refresher.refresh(first.sessionId, 'unauthorized', first.version);
      if (outcome !== 'success')
        throw new CredentialUnavailableError(
          `The ${providerName} session "${session.label}" expired and could not be refreshed: ${session.lastError ?? 'unknown reason'}`,
        );
      // The same session again, refreshed: not whichever another pick would find now.
      return use((await this.credential(providerName, session.label)).secrets);
    }
  }

  /** Discovery's view of the GoPlus session: a token to send, never the key or the secret. */
  goplusTokens(label?: string) {
    return {
      available: () => this.has('goplus', label),
      withToken: async <T>(call: (authorization: string) => Promise<T>): Promise<T> => {
        try {
          return await this.withCredential('goplus', (s) => call(s.accessToken ?? ''), label);
        } catch (err) {
          // Discovery reports upstream failures per token; this one names what to fix.
          if (err instanceof CredentialUnavailableError) throw new UpstreamError('GoPlus', 401, err.message);
          throw err;
        }
      },
    };
  }

  /** GOPLUS_APP_KEY/GOPLUS_APP_SECRET seed (or update) the "default" GoPlus session. */
  private async seedGoPlus() {
    const { GOPLUS_APP_KEY: appKey, GOPLUS_APP_SECRET: appSecret } = this.deps.config;
    if (!appKey || !appSecret) return;
    const existing = await this.store.find('goplus', 'default');
    if (existing && this.box.canOpen(existing.secretKeyId)) {
      const s = this.box.open(existing);
      if (s.appKey === appKey && s.appSecret === appSecret) return;
    }
    const secrets = { appKey, appSecret };
    await this.store.upsert({
      provider: 'goplus',
      label: 'default',
      status: 'active',
      ...this.box.seal('goplus', secrets),
      expiresAt: null,
      lastError: null,
      failures: 0,
      retryAfter: null,
    });
  }

  private async emit(event: VaultEvent, sessionId: number | null) {
    await this.deps.streams.recordThenPublish(
      [],
      (tx) => this.store.recordEvent(tx, event, sessionId),
      (stored) => this.deps.bus.publish(vaultTopic, stored),
    );
  }

  async close() {
    this.unsubscribeScheduler();
    await this.scheduler.close();
    await this.refresher.idle();
  }
}
