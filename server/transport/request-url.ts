import type { IncomingMessage } from 'node:http';

/**
 * The request's URL, or null when its path does not parse (`GET //[`): node:http passes any
 * request target through, and `new URL` throws on such a one, so every listener asks here.
 */
export function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://local');
  } catch {
    return null;
  }
}
