import { z } from 'zod';
import { text } from './text';

/** The store keeps this many tokens, newest first; older ones are deleted (FIFO). */
export const DISCOVERY_CAPACITY = 200;
export const DISCOVERY_MIN_INTERVAL_SECONDS = 60;

/** DexScreener chain ids: lower-case words like "solana", "ethereum", "bsc", "base". */
export const ZChain = text({ label: 'Chain ids', max: 32 })
  .toLowerCase()
  .regex(/^[a-z0-9-]{2,32}$/, {
    error: 'The chain must be a DexScreener chain id such as "solana", "ethereum", "bsc" or "base".',
  });

export const ZTriggerInput = z
  .object({
    maxTokens: z
      .number({ error: 'Tokens per scan must be a whole number from 1 to 100.' })
      .int({ error: 'Tokens per scan must be a whole number from 1 to 100.' })
      .min(1, { error: 'Tokens per scan must be at least 1.' })
      .max(100, { error: 'Tokens per scan can be at most 100.' })
      .default(20),
    chain: ZChain.optional(),
    /** Scan exactly one token, given by its DexScreener page: https://dexscreener.com/<chain>/<address>. */
    profileUrl: text({ label: 'Profile URLs', max: 300 })
      .refine((u) => parseProfileUrl(u) !== null, {
        error: 'The link must be a DexScreener token page such as https://dexscreener.com/solana/<address>.',
      })
      .optional(),
  })
  .default({ maxTokens: 20 });
export type TriggerInput = z.infer<typeof ZTriggerInput>;

export function parseProfileUrl(url: string): { chain: string; address: string } | null {
  try {
    const u = new URL(url);
    if (!/^(www\.)?dexscreener\.com$/.test(u.hostname)) return null;
    const [chain, address, ...rest] = u.pathname.split('/').filter(Boolean);
    if (!chain || !address || rest.length || !/^[a-z0-9-]{2,32}$/.test(chain) || !/^[A-Za-z0-9]{20,64}$/.test(address))
      return null;
    return { chain, address };
  } catch {
    return null;
  }
}

export const ZTriggerOutput = z.object({ scanId: z.number(), joined: z.boolean() });

export const ZStatusOutput = z.object({
  scanning: z.boolean(),
  currentScanId: z.number().nullable(),
  autoDiscoveryActive: z.boolean(),
  autoDiscoveryInterval: z.number(),
  autoDiscoveryMaxTokens: z.number(),
  lastScanAt: z.date().nullable(),
  /** The newest finished scan: whether it worked and, if not, why (kept in the database). */
  lastScan: z
    .object({
      scanId: z.number(),
      outcome: z.enum(['completed', 'failed']),
      finishedAt: z.date(),
      /** Why it failed (null when it completed). */
      error: z.string().nullable(),
      candidates: z.number(),
      newTokens: z.number(),
    })
    .nullable(),
  totalScans: z.number(),
  tokensInDatabase: z.number(),
  databaseCapacity: z.number(),
});
export type DiscoveryStatus = z.infer<typeof ZStatusOutput>;

export const ZStatsOutput = z.object({
  totalScans: z.number(),
  totalTokensDiscovered: z.number(),
  safeTokens: z.number(),
  riskyTokens: z.number(),
  unverifiedTokens: z.number(),
  lastScanAt: z.date().nullable(),
  autoDiscoveryActive: z.boolean(),
  databaseUsage: z.number(),
  databaseUsagePercent: z.number(),
});

export const ZRecentInput = z
  .object({
    limit: z
      .number({ error: 'The page size must be a whole number from 1 to 200.' })
      .int({ error: 'The page size must be a whole number from 1 to 200.' })
      .min(1, { error: 'The page size must be at least 1.' })
      .max(200, { error: 'The page size can be at most 200.' })
      .default(50),
    chain: ZChain.optional(),
  })
  .default({ limit: 50 });

/**
 * "unverified": the security check failed or left out a core field (honeypot, taxes, …);
 * nothing is known, so it is never "safe". "risky": checked, with a critical finding or a
 * score of 30 or more. "safe": checked, neither.
 */
export const ZVerdict = z.enum(['safe', 'risky', 'unverified']);
export type Verdict = z.infer<typeof ZVerdict>;
/** The risk score (0–100) at or above which a checked token is "risky". */
export const SAFE_BELOW = 30;
/** An unverified token scores at least this much: unknown is not low risk. */
export const UNVERIFIED_FLOOR = 50;

const ZTokenFields = z.object({
  id: z.number(),
  address: z.string(),
  chain: z.string(),
  name: z.string(),
  symbol: z.string(),
  priceUsd: z.number().nullable(),
  liquidityUsd: z.number().nullable(),
  volume24hUsd: z.number().nullable(),
  fdvUsd: z.number().nullable(),
  pairCreatedAt: z.coerce.date().nullable(),
  url: z.string().nullable(),
  iconUrl: z.string().nullable(),
  riskScore: z.number().int().min(0).max(100),
  isSafe: z.boolean(),
  /** False when the security check could not be done or left out core fields: the risks then say why. */
  verified: z.boolean(),
  risks: z.array(z.string()),
  discoveredAt: z.coerce.date(),
});
// Derived, not stored: events recorded before it existed read the same way.
export const ZToken = ZTokenFields.transform((t) => ({ ...t, verdict: verdictOf(t) }));
export type Token = z.infer<typeof ZToken>;

export function verdictOf(t: { verified: boolean; isSafe: boolean }): Verdict {
  return !t.verified ? 'unverified' : t.isSafe ? 'safe' : 'risky';
}

export const ZRecentOutput = z.object({ tokens: z.array(ZToken), count: z.number() });

export const ZScanTokensInput = z.object({
  scanId: z
    .number({ error: 'Choose a scan by the id that starting it returned.' })
    .int()
    .positive({ error: 'Choose a scan by the id that starting it returned.' }),
});
/** Every token a scan checked (new and already known), each once; tokens since pruned are gone. */
export const ZScanTokensOutput = z.object({
  scanId: z.number(),
  status: z.enum(['running', 'completed', 'failed']),
  tokens: z.array(z.object({ token: ZToken, isNew: z.boolean() })),
});

export const ZAutoStartInput = z.object({
  intervalSeconds: z
    .number({ error: `The interval must be a whole number of seconds, at least ${DISCOVERY_MIN_INTERVAL_SECONDS}.` })
    .int({ error: 'The interval must be a whole number of seconds.' })
    .min(DISCOVERY_MIN_INTERVAL_SECONDS, {
      error: `The interval must be at least ${DISCOVERY_MIN_INTERVAL_SECONDS} seconds (upstream rate limits).`,
    })
    .max(86_400, { error: 'The interval can be at most 86400 seconds (one day).' }),
  maxTokens: z
    .number({ error: 'Tokens per scan must be a whole number from 1 to 100.' })
    .int({ error: 'Tokens per scan must be a whole number from 1 to 100.' })
    .min(1, { error: 'Tokens per scan must be at least 1.' })
    .max(100, { error: 'Tokens per scan can be at most 100.' }),
});

export const ZScanCounts = z.object({
  candidates: z.number(),
  newTokens: z.number(),
  updatedTokens: z.number(),
  safe: z.number(),
  risky: z.number(),
  unverified: z.number(),
});
export type ScanCounts = z.infer<typeof ZScanCounts>;

export const ZDiscoveryEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('new_token'),
    scanId: z.number(),
    token: ZToken,
    progress: z.object({ checked: z.number(), total: z.number() }),
  }),
  z.object({
    type: z.literal('scan_started'),
    scanId: z.number(),
    /** 'auto' (the scheduler) or 'user' (someone pressed Scan): which user is not shared. */
    triggeredBy: z.string(),
    maxTokens: z.number(),
    chain: z.string().nullable(),
  }),
  /** After the candidates are known (checked 0) and after each batch is stored: what the scan has done so far. */
  z.object({
    type: z.literal('scan_progress'),
    scanId: z.number(),
    checked: z.number(),
    total: z.number(),
    counts: ZScanCounts,
  }),
  z.object({ type: z.literal('scan_completed'), scanId: z.number(), durationMs: z.number(), counts: ZScanCounts }),
  z.object({ type: z.literal('scan_error'), scanId: z.number(), message: z.string() }),
  z.object({
    type: z.literal('discovery_status'),
    autoDiscoveryActive: z.boolean(),
    autoDiscoveryInterval: z.number(),
    autoDiscoveryMaxTokens: z.number(),
  }),
]);
export type DiscoveryEvent = z.infer<typeof ZDiscoveryEvent>;
export type DiscoveryEventType = DiscoveryEvent['type'];
