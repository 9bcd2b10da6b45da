import { z } from 'zod';
import { text } from './text';

export const VAULT_PROVIDERS = ['vinted', 'goplus'] as const;
export const ZVaultProvider = z.enum(VAULT_PROVIDERS, { error: 'The provider must be Vinted or GoPlus.' });
export type VaultProvider = z.infer<typeof ZVaultProvider>;

export const ZVaultStatus = z.enum(['active', 'expired', 'error', 'requires_configuration']);
export type VaultStatus = z.infer<typeof ZVaultStatus>;

/** A session as admins see it: never a secret, only what the secret says about itself. */
export const ZVaultSession = z.object({
  id: z.number(),
  provider: ZVaultProvider,
  label: z.string(),
  status: ZVaultStatus,
  expiresAt: z.date().nullable(),
  lastRefreshAt: z.date().nullable(),
  lastError: z.string().nullable(),
  failures: z.number(),
  retryAfter: z.date().nullable(),
  updatedAt: z.date(),
});
export type VaultSession = z.infer<typeof ZVaultSession>;
export const ZSessionsOutput = z.array(ZVaultSession);

const ZLabel = text({ label: 'Labels', max: 60 }).default('default');

export const ZSaveSessionInput = z.discriminatedUnion(
  'provider',
  [
    z.object({
      provider: z.literal('vinted'),
      label: ZLabel,
      // The Cookie header from a signed-in browser; the provider checks which cookies it holds.
      secrets: z.object({ cookie: text({ label: 'Cookie headers', max: 16_000 }) }),
    }),
    z.object({
      provider: z.literal('goplus'),
      label: ZLabel,
      secrets: z.object({
        appKey: text({ label: 'App keys', max: 200 }),
        appSecret: text({ label: 'App secrets', max: 200 }),
      }),
    }),
  ],
  { error: 'The provider must be Vinted or GoPlus.' },
);
export type SaveSessionInput = z.infer<typeof ZSaveSessionInput>;

export const ZSessionIdInput = z.object({
  sessionId: z
    .number({ error: "Choose a session by its id, as the vault's session list shows it." })
    .int()
    .positive({ error: "Choose a session by its id, as the vault's session list shows it." }),
});

export const ZAttemptTrigger = z.enum(['scheduler', 'manual', 'unauthorized', 'expiring', 'save']);
export type AttemptTrigger = z.infer<typeof ZAttemptTrigger>;
export const ZAttemptOutcome = z.enum(['success', 'error', 'requires_configuration']);
export type AttemptOutcome = z.infer<typeof ZAttemptOutcome>;

export const ZVaultAttempt = z.object({
  sessionId: z.number(),
  provider: ZVaultProvider,
  label: z.string(),
  trigger: ZAttemptTrigger,
  outcome: ZAttemptOutcome,
  message: z.string().nullable(),
  durationMs: z.number(),
  at: z.date(),
});
export type VaultAttempt = z.infer<typeof ZVaultAttempt>;

export const ZRefreshNowOutput = z.object({ outcome: ZAttemptOutcome, session: ZVaultSession });
export type RefreshResult = z.infer<typeof ZRefreshNowOutput>;

export const ZAttemptsInput = z
  .object({
    sessionId: z.number().int().positive().optional(),
    limit: z.number({ error: 'The page size must be a whole number from 1 to 100.' }).int().min(1).max(100).default(20),
  })
  .default({ limit: 20 });
export const ZAttemptsOutput = z.array(ZVaultAttempt.extend({ id: z.number() }));

export const ZSchedulerOutput = z.object({
  isActive: z.boolean(),
  autoRefreshEnabled: z.boolean(),
  intervalMinutes: z.number(),
  lastRunAt: z.date().nullable(),
  nextRunAt: z.date().nullable(),
});
export type VaultScheduler = z.infer<typeof ZSchedulerOutput>;

export const ZControlSchedulerInput = z.object({
  action: z.enum(['start', 'stop', 'restart'], { error: 'Choose to start, stop or restart the scheduler.' }),
  intervalMinutes: z
    .number({ error: 'The interval must be a whole number of minutes from 1 to 1440.' })
    .int({ error: 'The interval must be a whole number of minutes from 1 to 1440.' })
    .min(1, { error: 'The interval must be at least 1 minute.' })
    .max(1440, { error: 'The interval can be at most 1440 minutes (one day).' })
    .optional(),
});

/** What `vault.events` pushes to admins; each is stored first, so a page can resume. */
export type VaultEvent =
  | { type: 'attempt'; attempt: VaultAttempt; session: VaultSession }
  | { type: 'session_saved'; session: VaultSession }
  | { type: 'scheduler'; scheduler: VaultScheduler };
