import type { IncomingMessage } from 'node:http';
import type { AnyTRPCRouter, TRPCError } from '@trpc/server';
import type { WebSocketServer } from 'ws';
import type { Logger } from '../log';
import type { FanoutHub } from './fanout';
import type { OpenCounts } from './open-counts';

export type ConnectionParams = Record<string, string> | null;
export type ErrorInfo = { error: TRPCError; path?: string; type: string };

export interface WsAdapterOptions<TCtx> {
  wss: WebSocketServer;
  /** Any tRPC router: its transformer (or none) encodes every frame, the data stream included. */
  router: AnyTRPCRouter;
  hub: FanoutHub;
  createContext(req: IncomingMessage, connectionParams: ConnectionParams): Promise<TCtx>;
  onError(info: ErrorInfo): void;
  /** Where a socket callback's failure is reported (once, see guarded) instead of ending the process. */
  log: Logger;
  /** A limit was hit or a frame was refused: told once per connection, as a warning. */
  onAbuse(info: { reason: string; ip: string | undefined }): void;
  onSlowClient(): void;
  onConnection(open: boolean): void;
  clientAddress(req: IncomingMessage): string;
  keepAlive: { pingMs: number; pongWaitMs: number };
  limits: { maxBufferedBytes: number; callsPerSecond: number; maxSubscriptions: number };
  /** Open subscriptions per subscriber over all its sockets (WS_MAX_SUBSCRIPTIONS_PER_USER). */
  userSubscriptions: OpenCounts;
  /** Whose subscriptions a connection's count against: its user, or its address without one. */
  subscriberKey(ctx: TCtx): string;
}

/** How a connection reports what it caught in a socket callback or a dropped promise. */
export interface Failures {
  message: (err: unknown) => void;
  call: (err: unknown) => void;
}
