import { AuthService } from './auth/service';
import type { Config } from './config';
import { openDatabase, type Database, type Db } from './db/client';
import { createLogger, type Logger } from './log';
import { createMetrics, type Metrics } from './metrics';
import { createMemoryBus, type EventBus } from './realtime/bus';
import { Inbox } from './realtime/inbox';
import { startRetention, type Retention } from './realtime/retention';
import { RealtimeStats } from './realtime/stats';
import { DiscoveryService } from './modules/discovery/service';
import { MarketService } from './modules/market/service';
import { loadKeyring, type Keyring } from './modules/vault/crypto';
import { VaultService } from './modules/vault/service';
import { VintedService } from './modules/vinted/service';
import { ChatService } from './modules/chat/service';
import { CollectionsService } from './modules/collections/service';
import { ShareCodeService } from './modules/collections/share-codes';
import { seedDefaultStrategies } from './modules/market/strategies';
import type { SessionUser } from '../shared/auth';

/** The composition root: everything a request handler, a test or a script needs. */
export interface App {
  config: Config;
  database: Database;
  db: Db;
  bus: EventBus;
  stats: RealtimeStats;
  metrics: Metrics;
  log: Logger;
  auth: AuthService;
  inbox: Inbox;
  discovery: DiscoveryService;
  market: MarketService;
  vault: VaultService;
  vinted: VintedService;
  chat: ChatService;
  collections: CollectionsService;
  collectionShares: ShareCodeService;
  retention: Retention;
  http: { isAllowedOrigin: (origin: string) => boolean; allowOrigin: (origin: string) => void };
  startedAt: Date;
  close(): Promise<void>;
}

/** `keyring` and `now` are for tests: an explicit vault key (no key file) and a shared fake clock. */
export async function createApp(config: Config, opts: { database?: Database; log?: Logger; keyring?: Keyring; now?: () => number } = {}): Promise<App> {
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const database = opts.database ?? (await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR }));
  const db = database.db;
  const bus = createMemoryBus((err) => log.error({ err }, 'bus handler failed'));
  const stats = new RealtimeStats();
  const inbox = new Inbox({ db, bus });
  // Features that seed per-user rows at sign-up register here (inside the account's transaction).
  const onUserCreated = async (tx: Db, user: SessionUser) => {
    await seedDefaultStrategies(tx, user.id);
  };
  const auth = new AuthService({ db, bus, adminEmails: config.ADMIN_EMAILS, passwordHashCost: config.PASSWORD_HASH_COST, onUserCreated });
  const origins = new Set(config.allowedOrigins);
  const metrics = createMetrics({ stats, bus });
  const keyring = opts.keyring ?? loadKeyring({ vaultKey: config.VAULT_KEY, previousKeys: config.VAULT_PREVIOUS_KEYS, dataDir: config.DATA_DIR, log });
  const vault = new VaultService({ config, db, databaseKind: database.kind, bus, log, keyring, now: opts.now });
  const vinted = new VintedService({ config, vault });
  const discovery = new DiscoveryService({ db, bus, log, config, goplusTokens: vault.goplusTokens() });
  const market = new MarketService({ config, db, bus, inbox, log, stats });
  const chat = new ChatService({ db, inbox });
  const collections = new CollectionsService({ db, inbox });
  const collectionShares = new ShareCodeService({ db, inbox });
  const retention = startRetention({
    intervalMs: config.RETENTION_INTERVAL_MS,
    log,
    jobs: [
      { name: 'inbox_events', run: () => inbox.prune(new Date(Date.now() - config.INBOX_RETENTION_DAYS * 86_400_000)) },
      { name: 'market_candles', run: () => market.store.prune(config.MARKET_CANDLES_KEEP) },
      { name: 'vault_events', run: () => vault.store.pruneEvents() },
    ],
  });

  const app: App = {
    config,
    database,
    db,
    bus,
    stats,
    metrics,
    log,
    auth,
    inbox,
    discovery,
    market,
    vault,
    vinted,
    chat,
    collections,
    collectionShares,
    retention,
    http: { isAllowedOrigin: (o) => origins.has(o), allowOrigin: (o) => void origins.add(o) },
    startedAt: new Date(),
    async close() {
      await retention.stop();
      await discovery.close();
      await vault.close();
      market.close();
      auth.close();
      await bus.close();
      await database.close();
    },
  };
  await vault.start();
  await discovery.start();
  return app;
}
