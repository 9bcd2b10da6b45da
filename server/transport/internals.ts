import type { Socket } from 'node:net';
import type { AnyRouter } from '@trpc/server';
import * as wsLib from 'ws';
import type { WebSocket } from 'ws';

/**
 * Everything we use of tRPC and of `ws` that neither exports publicly, in one place, so an
 * upgrade that moves one breaks here and in tests/integration/internals.test.ts, not in a
 * subscription's third message. Each was checked against @trpc/server 11.22.1 and ws 8.23.0.
 */

// Two helpers tRPC's own adapters use; trivial, but tRPC's own definition is the one that must agree.
export { isAsyncIterable, isObject } from '@trpc/server/unstable-core-do-not-import';

/** A router's root config (transformer, errorFormatter, isDev): tRPC's adapters read it there; no public accessor exists. */
export type RouterConfig = AnyRouter['_def']['_config'];
export const routerConfig = (router: AnyRouter): RouterConfig => router._def._config;

// ws exports its Sender at runtime; its type declarations leave it out.
const Sender = (wsLib as unknown as { Sender: { frame(data: Buffer, opts: object): Buffer[] } }).Sender;

/** One unmasked, uncompressed, final text frame: header and payload, as ws would write them. */
export function textFrame(payload: Buffer): Buffer[] {
  return Sender.frame(payload, { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
}

interface WsInternals {
  _socket?: NodeJS.EventEmitter;
  _sender?: { _state: number; _queue: unknown[]; sendFrame(list: Buffer[], cb?: (err?: Error) => void): void };
  _extensions: Record<string, unknown>;
}

/** The TCP socket under a WebSocket (its 'drain' says when the backlog is gone); undefined once detached. */
export const rawSocketOf = (ws: WebSocket): NodeJS.EventEmitter | undefined => (ws as unknown as WsInternals)._socket;

const corked = new WeakSet<Socket>();

/**
 * Holds the socket's writes until the end of this turn, so the frames sent meanwhile (a
 * subscription's start, a replay page) leave in one write instead of one each. Nested corks
 * are counted by the stream, so ws's own cork inside a frame changes nothing.
 */
export function corkForTurn(ws: WebSocket) {
  const socket = (ws as unknown as WsInternals)._socket as Socket | undefined;
  if (!socket || corked.has(socket)) return;
  corked.add(socket);
  socket.cork();
  process.nextTick(() => {
    corked.delete(socket);
    socket.uncork();
  });
}

/**
 * The socket's frame writer when a prebuilt frame may go straight to it: nothing queued or
 * being compressed ahead of it (or frames would reorder) and no permessage-deflate. Else null.
 */
export function idleSender(ws: WebSocket): { sendFrame(list: Buffer[]): void } | null {
  const w = ws as unknown as WsInternals;
  const sender = w._sender;
  if (!sender || sender._state !== 0 || sender._queue.length !== 0 || w._extensions['permessage-deflate']) return null;
  return sender;
}
