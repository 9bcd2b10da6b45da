import type { ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import type { RealtimeCaps } from './caps';

/**
 * Subscriptions over HTTP are tRPC's own server-sent events (its standalone handler streams
 * them at /trpc/<path>); this file holds what our WebSocket adapter does for its sockets and
 * tRPC's SSE does not: the caps, and the cut of a reader that stopped reading.
 */

/**
 * What an SSE request's context offers the subscription middleware (server/trpc.ts): take one
 * slot of the address's open realtime connections and one of the subscriber's open
 * subscriptions, the same gauges the WebSockets count against, before the procedure runs.
 * Both are given back when the response closes, whatever ended it (the stream's end, the client
 * leaving, a cut), so a stream that never started holds nothing.
 */
export function sseHold(caps: RealtimeCaps, ip: string, res: ServerResponse) {
  let held = false;
  return (subscriber: string) => {
    if (held) return;
    if (!caps.perAddress.tryTake(ip))
      throw new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `Too many open connections from this address (at most ${caps.perAddress.max}): close some tabs or try again later.`,
      });
    if (!caps.userSubscriptions.tryTake(subscriber)) {
      caps.perAddress.release(ip);
      throw new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `Too many open subscriptions for one account (at most ${caps.userSubscriptions.max}): close some tabs or views, then try again.`,
      });
    }
    held = true;
    res.once('close', () => {
      caps.perAddress.release(ip);
      caps.userSubscriptions.release(subscriber);
    });
  };
}

/**
 * An event stream has no end to time (HTTP_WRITE_TIMEOUT_MS bounds a whole answer otherwise),
 * so each write is timed instead: tRPC waits for 'drain' before it reads the next event, so a
 * reader that stops reading holds the stream's bounded queue (realtime/queue.ts) and the
 * socket's buffers, no more; a write still waiting after `stallMs`, or a backlog past
 * `maxBufferedBytes` (one huge event), cuts the response. The client reconnects with its
 * Last-Event-ID and resumes, as a WebSocket cut for being slow does.
 */
export function limitStreamStalls(
  res: ServerResponse,
  opts: { stallMs: number; maxBufferedBytes: number; onCut: () => void },
) {
  let timer: NodeJS.Timeout | undefined;
  const cut = () => {
    if (res.destroyed) return;
    opts.onCut();
    res.destroy();
  };
  const write = res.write;
  res.write = function (this: ServerResponse, ...args: Parameters<ServerResponse['write']>) {
    const flushed = write.apply(this, args);
    if (res.writableLength > opts.maxBufferedBytes) cut();
    else if (!flushed) timer ??= setTimeout(cut, opts.stallMs).unref();
    return flushed;
  } as ServerResponse['write'];
  res.on('drain', () => {
    clearTimeout(timer);
    timer = undefined;
  });
  res.once('close', () => clearTimeout(timer));
}
