import { AuthService } from './modules/auth/service';
import type { Config } from './config';
import { openDatabase, type Database, type Db } from './db/client';
import { openPostgresWithRetry } from './db/connect';
import { createLogger, type Logger } from './log';
import { createMetrics, type Metrics } from './metrics';
import type { EventBus } from './realtime/bus';
import { createBus } from './cluster/create-bus';
import { defaultInstanceId } from './cluster/instance';
import { pruneBusPayloads } from './cluster/prune';
import { createLimits, type Limits } from './cluster/limits';
import type { KlineHandler } from './modules/market/binance-feed';
import { ClusterFeed } from './modules/market/cluster-feed';
import { createLocalElector, startPostgresElector, type Elector } from './cluster/elector';
import { Inbox } from './realtime/inbox';
import { StreamLog } from './realtime/record';
import { startRetention, type Retention } from './realtime/retention';
import { RealtimeStats } from './realtime/stats';
import { DiscoveryService } from './modules/discovery/service';
import { MarketService } from './modules/market/service';
import { loadKeyring, type Keyring } from './modules/vault/crypto';
import { VaultService } from './modules/vault/service';
import { VintedService } from './modules/vinted/service';
import { ChatService } from './modules/chat/service';
import { SEND_LIMIT } from './modules/chat/deps';
import { CollectionsService } from './modules/collections/service';
import { ShareCodeService } from './modules/collections/share-codes';
import { ClusterMembership } from './cluster/membership';
import { PresenceService } from './modules/presence/service';
import { MAX_ROOMS_PER_USER } from '../shared/presence';
import { seedDefaultStrategies } from './modules/market/strategies';
import type { SessionUser } from '../shared/auth';

/** The composition root: everything a request handler, a test or a script needs. */
export interface App {
  config: Config;
  database: Database;
  db: Db;
  bus: EventBus;
  /** Writes stream events and publishes them in commit order (realtime/record.ts). */
  streams: StreamLog;
  /** This process in the cluster (INSTANCE_ID or host-pid-random). */
  instanceId: string;
  /** Leader election for the jobs that run once in the cluster (docs/deploy.md). */
  cluster: Elector;
  /** Rate-limit counters, shared by the cluster (Postgres or Redis) unless on PGlite. */
  limits: Limits;
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
  presence: PresenceService;
  retention: Retention;
  http: { isAllowedOrigin: (origin: string) => boolean; allowOrigin: (origin: string) => void };
  startedAt: Date;
  close(): Promise<void>;
}

/** `keyring` and `now` are for tests: an explicit vault key (no key file) and a shared fake clock. */
export async function createApp(
  config: Config,
  opts: { database?: Database; log?: Logger; keyring?: Keyring; now?: () => number } = {},
): Promise<App> {
  const log =
    opts.log ??
    createLogger(config.LOG_LEVEL, undefined, {
      format: config.LOG_FORMAT,
      production: config.NODE_ENV === 'production',
    });
  const database =
    opts.database ??
    (config.DATABASE_URL
      ? await openPostgresWithRetry(
          config.DATABASE_URL,
          {
            retries: config.DATABASE_CONNECT_RETRIES,
            minMs: config.DATABASE_CONNECT_RETRY_MS,
            maxMs: config.DATABASE_CONNECT_RETRY_MAX_MS,
          },
          log,
        )
      : await openDatabase({ dataDir: config.DATA_DIR }));
  const db = database.db;
  const instanceId = config.INSTANCE_ID ?? defaultInstanceId();
  const bus = await createBus(config, database, instanceId, log);
  const stats = new RealtimeStats();
  const limits = createLimits({
    kind: database.kind,
    db,
    redisUrl: config.REDIS_URL,
    channel: config.BUS_CHANNEL,
    log,
  });
  const report = () => ({
    upstreams: Object.values(stats.upstreamConnections()).reduce((a, b) => a + b, 0),
    busLagMs: bus.stats().lagMs ?? null,
  });
  const cluster =
    database.kind === 'postgres' && database.url
      ? await startPostgresElector({
          url: database.url,
          instanceId,
          intervalMs: config.CLUSTER_ELECTION_MS,
          log,
          report,
        })
      : createLocalElector(instanceId, log, report);
  // Per App, not per module: another App in this process (tests, bench) orders its own writes.
  const streams = new StreamLog({ db, bus });
  const inbox = new Inbox({ db, bus, streams });
  // Features that seed per-user rows at sign-up register here (inside the account's transaction).
  const onUserCreated = async (tx: Db, user: SessionUser) => {
    await seedDefaultStrategies(tx, user.id);
  };
  const auth = new AuthService({
    db,
    bus,
    adminEmails: config.ADMIN_EMAILS,
    passwordHashCost: config.PASSWORD_HASH_COST,
    onUserCreated,
    log,
  });
  const origins = new Set(config.allowedOrigins);
  const metrics = createMetrics({ stats, bus, cluster });
  const keyring =
    opts.keyring ??
    loadKeyring({
      vaultKey: config.VAULT_KEY,
      previousKeys: config.VAULT_PREVIOUS_KEYS,
      dataDir: config.DATA_DIR,
      log,
    });
  const vault = new VaultService({
    config,
    db,
    streams,
    databaseKind: database.kind,
    bus,
    log,
    keyring,
    now: opts.now,
    schedulerLeader: cluster.singleton('vault-scheduler'),
  });
  const vinted = new VintedService({ config, vault });
  const discovery = new DiscoveryService({
    db,
    bus,
    streams,
    log,
    config,
    goplusTokens: vault.goplusTokens(),
    autoScan: cluster.singleton('discovery-auto-scan'),
    scanLock: cluster.lock('discovery-scan'),
  });
  // With several instances one of them holds each Binance connection (docs/deploy.md).
  const clusterFeed =
    database.kind === 'postgres'
      ? (handler: KlineHandler, marketLog: Logger) => new ClusterFeed({ config, log: marketLog, handler, bus, cluster })
      : undefined;
  const market = new MarketService({
    config,
    db,
    bus,
    streams,
    inbox,
    log,
    stats,
    feed: clusterFeed,
    limiter: (o) => limits.limiter(o),
  });
  const chat = new ChatService({ db, inbox, sendLimiter: limits.workLimiter(SEND_LIMIT) });
  const collections = new CollectionsService({ db, inbox });
  const collectionShares = new ShareCodeService({ db, inbox, limiter: (o) => limits.limiter(o) });
  // Who watches which room, over the cluster (the bus carries joins, leaves and one heartbeat per instance).
  const membership = new ClusterMembership({
    bus,
    log,
    instanceId,
    name: 'presence',
    shared: database.kind === 'postgres',
    periodMs: config.PRESENCE_HEARTBEAT_MS,
    maxKeysPerMember: MAX_ROOMS_PER_USER,
  });
  const presence = new PresenceService({
    membership,
    requireParticipant: (userId, conversationId) => chat.requireParticipant(userId, conversationId),
    log,
  });
  const retention = startRetention({
    intervalMs: config.RETENTION_INTERVAL_MS,
    log,
    jobs: [
      { name: 'inbox_events', run: () => inbox.prune(new Date(Date.now() - config.INBOX_RETENTION_DAYS * 86_400_000)) },
      { name: 'market_candles', run: () => market.store.prune(config.MARKET_CANDLES_KEEP) },
      { name: 'vault_events', run: () => vault.store.pruneEvents() },
      { name: 'bus_payloads', run: () => pruneBusPayloads(db) },
      { name: 'rate_limits', run: () => limits.prune() },
    ],
  });

  const app: App = {
    config,
    database,
    db,
    bus,
    streams,
    instanceId,
    cluster,
    limits,
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
    presence,
    retention,
    http: { isAllowedOrigin: (o) => origins.has(o), allowOrigin: (o) => void origins.add(o) },
    startedAt: new Date(),
    async close() {
      await retention.stop();
      await discovery.close();
      await vault.close();
      market.close();
      auth.close();
      // Before the bus closes: the others hear this instance's goodbye and drop its members at once.
      membership.close();
      await cluster.close();
      await limits.close();
      await bus.close();
      await database.close();
    },
  };
  // Know who leads before the schedules start: a follower must not sweep or scan at start.
  await cluster.settle();
  await vault.start();
  await discovery.start();
  void market.start();
  return app;
}
