import type { IncomingMessage } from 'node:http';

/**
 * The caller's address for rate limits and the /metrics loopback check. With `trustProxy`
 * = N, the last N hops (the socket peer, then X-Forwarded-For from the right) are our own
 * proxies, and the address is the hop just before them: the right-most one we do not trust.
 * Entries further left are whatever the client wrote and are never used. With 0 (default)
 * X-Forwarded-For is ignored, since without a proxy any client could set it.
 */
export function clientAddress(req: IncomingMessage, trustProxy: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustProxy <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const hops = [...forwarded, peer];
  return hops[Math.max(hops.length - 1 - trustProxy, 0)]!;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
export const isLoopback = (address: string) => LOOPBACK.has(address);
