import { z } from 'zod';
import { text } from './text';

/**
 * The error code a resumable subscription answers when the client's lastEventId is older than
 * what the server keeps (retention): reload current state and subscribe without lastEventId.
 */
export const RESUME_EXPIRED_CODE = 'PRECONDITION_FAILED' as const;

/**
 * The first message of a resumable subscription started without lastEventId: tracked with the
 * stream's position at that moment, so tRPC's client has a lastEventId from the start and a
 * reconnect resumes instead of starting "from now" (an event published during the gap would be
 * lost). It is not data: every reader skips it (`isResumePoint`).
 */
export const ZResumePoint = z.object({ type: z.literal('resume_point') });
export type ResumePoint = z.infer<typeof ZResumePoint>;
export const RESUME_POINT: ResumePoint = Object.freeze({ type: 'resume_point' });

/** True for the resume-point marker (an event's `data`): exactly `{ type: 'resume_point' }`, which no stored event is. */
export function isResumePoint(data: unknown): data is ResumePoint {
  return (
    typeof data === 'object' &&
    data !== null &&
    (data as { type?: unknown }).type === 'resume_point' &&
    Object.keys(data).length === 1
  );
}

/** The resume point as a subscriber receives it (tracked: `{ id, data }`). */
export type ResumePointMessage = { id: string; data: ResumePoint };

/** True for a received message (`{ id, data }` or `{ data }`) that is the resume point. */
export function isResumePointMessage(message: unknown): message is ResumePointMessage {
  return typeof message === 'object' && message !== null && isResumePoint((message as { data?: unknown }).data);
}

/** Input of every resumable subscription: tRPC fills `lastEventId` itself on reconnect. */
export const ZResumeInput = z.object({ lastEventId: text({ label: 'Resume points', max: 40 }).nullish() }).optional();

export const ZHealthOutput = z.object({
  ok: z.boolean(),
  db: z.enum(['pglite', 'postgres']),
  upstreams: z.enum(['live', 'demo']),
  googleSignIn: z.boolean(),
});

export const ZStatsOutput = z.object({
  connections: z.number(),
  connectionsTotal: z.number(),
  slowClientDisconnects: z.number(),
  subscriptions: z.record(z.string(), z.number()),
  upstreamConnections: z.record(z.string(), z.number()),
  bus: z.object({
    kind: z.enum(['memory', 'postgres', 'redis']),
    channels: z.number(),
    handlers: z.number(),
    published: z.number(),
    delivered: z.number(),
    /** Cross-instance buses only: messages from other instances (and own transactional ones), lag of the last (ms). */
    received: z.number().optional(),
    lagMs: z.number().nullable().optional(),
    maxLagMs: z.number().optional(),
    reconnects: z.number().optional(),
  }),
  /** Several instances on one Postgres: who is alive, who leads each singleton, upstreams in total. */
  cluster: z.object({
    instanceId: z.string(),
    kind: z.enum(['local', 'postgres']),
    instances: z.array(
      z.object({
        id: z.string(),
        startedAt: z.date(),
        seenAt: z.date(),
        leads: z.array(z.string()),
        upstreams: z.number(),
        busLagMs: z.number().nullable(),
      }),
    ),
    leaders: z.record(z.string(), z.string().nullable()),
    upstreamConnectionsTotal: z.number(),
  }),
  memory: z.object({ rssBytes: z.number(), heapUsedBytes: z.number() }),
  uptimeSeconds: z.number(),
});

/** One entry of a user's inbox, as pushed by `system.notifications`. */
export const ZNotification = z.object({
  id: z.number(),
  feature: z.string(),
  type: z.string(),
  payload: z.unknown(),
  createdAt: z.date(),
});
export type Notification = z.infer<typeof ZNotification>;
