import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config';
import { bearerToken } from '../context';
import { clientAddress, isLoopback } from './address';

/**
 * /metrics shows connection counts, memory and upstream state: a scraper on the same host may
 * read it, anyone else needs METRICS_TOKEN. Behind a proxy the proxy is on loopback, so the
 * check uses the forwarded client address (TRUST_PROXY), not the socket peer.
 */
export function metricsAllowed(req: IncomingMessage, config: Pick<Config, 'METRICS_TOKEN' | 'TRUST_PROXY'>): boolean {
  const token = config.METRICS_TOKEN;
  const bearer = bearerToken(req);
  if (token && bearer) {
    const given = Buffer.from(bearer);
    const expected = Buffer.from(token);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
  }
  return isLoopback(clientAddress(req, config.TRUST_PROXY));
}
