import { z } from 'zod';
import { PRODUCTION_HASH_COST } from './modules/auth/password';

const csv = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  );

const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .default('')
  .transform((v) => v === 'true' || v === '1');

const baseUrl = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .pipe(z.url({ message: 'must be a URL with scheme, host and port only, e.g. http://127.0.0.1:4000' }))
    .transform((u) => u.replace(/\/+$/, ''));

// A key is 32 random bytes, base64: `openssl rand -base64 32`. The value itself is never echoed.
const vaultKey = z.string().refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32, {
  message: 'must be 32 random bytes in base64 (generate one with: openssl rand -base64 32)',
});

/** Every environment variable Hubcast reads. README's configuration table mirrors this. */
export const ZEnv = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z.url().optional(),
  ALLOWED_ORIGINS: csv,
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  // Unset: ./.data, or ./.data-demo with UPSTREAMS=demo, so the demo's invented data never mixes with real data.
  DATA_DIR: z.string().min(1).optional(),
  // Postgres unreachable at start: tries after the first, the first wait (doubling) and the longest wait.
  // The defaults give up after about 3 minutes; a supervisor (systemd, compose) then restarts us.
  DATABASE_CONNECT_RETRIES: z.coerce.number().int().min(0).max(10_000).default(10),
  DATABASE_CONNECT_RETRY_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  DATABASE_CONNECT_RETRY_MAX_MS: z.coerce.number().int().min(10).max(600_000).default(30_000),
  // cluster: several instances on one Postgres (docs/deploy.md)
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  BUS_CHANNEL: z
    .string()
    .regex(
      /^[a-z_][a-z0-9_]{0,62}$/,
      'must be lower-case letters, digits and _ (at most 63), starting with a letter or _',
    )
    .default('hubcast_bus'),
  // How often non-leaders try to take a singleton over (and leaders check their connection).
  CLUSTER_ELECTION_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"')
    .optional(),
  UPSTREAMS: z.enum(['live', 'demo']).default('live'),
  // How long one upstream attempt (an HTTP call, a WebSocket handshake) may take before it counts
  // as failed and is retried; unset, each adapter's own default (10 s; 5 s under NODE_ENV=test).
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(50).max(120_000).optional(),
  BINANCE_WS_URL: baseUrl('wss://data-stream.binance.vision'),
  BINANCE_REST_URL: baseUrl('https://data-api.binance.vision'),
  DEXSCREENER_URL: baseUrl('https://api.dexscreener.com'),
  GOPLUS_URL: baseUrl('https://api.gopluslabs.io'),
  VINTED_URL: baseUrl('https://www.vinted.fr'),
  VINTED_API_URL: baseUrl('https://api.vinted.fr'),
  ADMIN_EMAILS: csv.transform((list) => list.map((e) => e.toLowerCase())),
  GOOGLE_CLIENT_ID: z.string().optional(),
  GOOGLE_CLIENT_SECRET: z.string().optional(),
  SESSION_COOKIE_SECURE: flag,
  // Set by `npm run dev` only: the Vite dev server's pages (port 5173) may then use cookie sessions.
  DEV_ORIGINS: flag,
  // log2 of scrypt's N; loadConfig lets only NODE_ENV=test go below the production cost.
  PASSWORD_HASH_COST: z.coerce.number().int().min(4).max(20).default(PRODUCTION_HASH_COST),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // auto: readable lines on a terminal, JSON when piped or in production.
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  WS_MAX_BUFFERED_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  WS_CONFLATE_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  WS_MAX_PAYLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  WS_MAX_CALLS_PER_SECOND: z.coerce.number().int().positive().default(50),
  WS_MAX_SUBSCRIPTIONS: z.coerce.number().int().positive().default(100),
  // Open subscriptions of one user over all its sockets, in the whole cluster (10 sockets at the per-socket cap).
  WS_MAX_SUBSCRIPTIONS_PER_USER: z.coerce.number().int().positive().default(1000),
  // Open WebSockets from one client address, in the whole cluster (an office behind one NAT, many tabs each).
  WS_MAX_SOCKETS_PER_ADDRESS: z.coerce.number().int().positive().default(200),
  // In a cluster each instance announces the keys holding at least this fraction of those two caps
  // (cluster/shared-counts.ts), every WS_CAPS_ANNOUNCE_MS and at once when one changes; a silent
  // instance's counts lapse after three periods.
  WS_CAPS_ANNOUNCE_FRACTION: z.coerce.number().min(0).max(1).default(0.1),
  WS_CAPS_ANNOUNCE_MS: z.coerce.number().int().min(50).max(60_000).default(5_000),
  // Presence across instances (cluster/membership.ts): each instance's one heartbeat per period; an
  // instance silent for three periods is dropped with its members (they leave).
  PRESENCE_HEARTBEAT_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  // edge limits: request size, batch size, who may read /metrics, proxies in front of us
  HTTP_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  HTTP_MAX_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(50),
  // The answer to one HTTP request, a whole batch included (http-answer-bound.ts), and how long it may wait for a client to take it.
  HTTP_MAX_RESPONSE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(8 * 1024 * 1024),
  HTTP_WRITE_TIMEOUT_MS: z.coerce.number().int().min(50).max(600_000).default(30_000),
  METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  TRUST_PROXY: z.coerce
    .number()
    .int()
    .min(0, 'must be the number of proxies in front of Hubcast (0 when none)')
    .max(10)
    .default(0),
  // discovery: GoPlus access token (batch checks) and auto-discovery defaults
  GOPLUS_APP_KEY: z.string().optional(),
  GOPLUS_APP_SECRET: z.string().optional(),
  AUTO_START_DISCOVERY: flag,
  // At least 60 (upstream rate limits); loadConfig lets only NODE_ENV=test go lower.
  DISCOVERY_INTERVAL: z.coerce.number().int().min(1).max(86_400).default(300),
  DISCOVERY_MAX_TOKENS: z.coerce.number().int().min(1).max(100).default(20),
  // Length of one scheduler "second" in ms: tests shrink it to see schedules quickly.
  DISCOVERY_TICK_MS: z.coerce.number().int().min(1).default(1000),
  // vault: secrets at rest and the refresh scheduler (interval and key rules in modules/vault)
  VAULT_KEY: vaultKey.optional().or(z.literal('').transform(() => undefined)),
  VAULT_PREVIOUS_KEYS: csv.pipe(z.array(vaultKey)),
  VAULT_AUTO_REFRESH_ENABLED: z
    .enum(['true', 'false', '1', '0', ''])
    .default('true')
    .transform((v) => v !== 'false' && v !== '0'),
  VAULT_REFRESH_INTERVAL_MINUTES: z.coerce.number().int().min(1).max(1440).default(30),
  // Length of one scheduler "minute" in ms: tests shrink it (like DISCOVERY_TICK_MS).
  VAULT_MINUTE_MS: z.coerce.number().int().min(1).default(60_000),
  // market: Binance kline feed
  MARKET_SYMBOL_GRACE_MS: z.coerce.number().int().min(0).default(30_000),
  MARKET_RECONNECT_MIN_MS: z.coerce.number().int().positive().default(1_000),
  MARKET_RECONNECT_MAX_MS: z.coerce.number().int().positive().default(30_000),
  MARKET_WS_MAX_AGE_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(23 * 3_600_000),
  MARKET_WS_IDLE_MS: z.coerce.number().int().positive().default(60_000),
  MARKET_CONTROL_MSGS_PER_SEC: z.coerce.number().positive().max(4).default(3),
  MARKET_HISTORY_CANDLES: z.coerce.number().int().min(50).max(1000).default(300),
  // Streams carried per timeframe, over as many upstream connections as needed (1,024 each).
  MARKET_MAX_STREAMS_PER_TIMEFRAME: z.coerce.number().int().min(1).max(65_536).default(4096),
  // How often the exchange's symbol list (GET /api/v3/exchangeInfo) is read again.
  MARKET_SYMBOLS_REFRESH_MS: z.coerce.number().int().min(1_000).default(86_400_000),
  // New series (first viewer or strategy on a symbol and timeframe) one user may start per hour.
  MARKET_NEW_SERIES_PER_USER_PER_HOUR: z.coerce.number().int().min(1).default(60),
  // retention of the stream tables (replay windows, not archives)
  INBOX_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  // Per series; at least the largest candles() page, so history queries stay whole.
  MARKET_CANDLES_KEEP: z.coerce.number().int().min(1000).default(10_000),
  // 0 turns scheduled pruning off.
  RETENTION_INTERVAL_MS: z.coerce.number().int().min(0).default(3_600_000),
});

export type Config = Omit<z.infer<typeof ZEnv>, 'DATA_DIR'> & {
  DATA_DIR: string;
  /** Origins whose browsers may open WebSockets and send cookie-authenticated mutations. */
  allowedOrigins: string[];
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Parses the environment once; every bad variable is named with the rule it breaks. Values are
 * never repeated: a mistyped DATABASE_URL or token would put its secret in the logs.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = ZEnv.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const cfg = parsed.data;
  if (cfg.NODE_ENV !== 'test' && (cfg.DISCOVERY_INTERVAL < 60 || cfg.DISCOVERY_TICK_MS !== 1000)) {
    throw new ConfigError([
      'DISCOVERY_INTERVAL: must be at least 60 seconds and DISCOVERY_TICK_MS left at 1000 outside tests',
    ]);
  }
  if (cfg.NODE_ENV !== 'test' && cfg.VAULT_MINUTE_MS !== 60_000) {
    throw new ConfigError(['VAULT_MINUTE_MS: must be left at 60000 outside tests']);
  }
  if (cfg.NODE_ENV !== 'test' && cfg.PASSWORD_HASH_COST < PRODUCTION_HASH_COST) {
    throw new ConfigError([
      `PASSWORD_HASH_COST: must be at least ${PRODUCTION_HASH_COST} outside NODE_ENV=test (a cheaper hash is for tests only)`,
    ]);
  }
  const local = [`http://localhost:${cfg.PORT}`, `http://127.0.0.1:${cfg.PORT}`];
  // The Vite dev server proxies /trpc; its pages carry its own origin. Only `npm run dev` runs
  // it, so any other start (npm start, a service unit) refuses a page served from :5173.
  const dev = cfg.DEV_ORIGINS ? ['http://localhost:5173', 'http://127.0.0.1:5173'] : [];
  const allowedOrigins = [
    ...new Set([...(cfg.PUBLIC_URL ? [new URL(cfg.PUBLIC_URL).origin] : []), ...local, ...dev, ...cfg.ALLOWED_ORIGINS]),
  ];
  const DATA_DIR = cfg.DATA_DIR ?? (cfg.UPSTREAMS === 'demo' ? './.data-demo' : './.data');
  return { ...cfg, DATA_DIR, allowedOrigins };
}
