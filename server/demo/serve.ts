import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server on a free port, for the fake upstreams. */
export async function serveLoopback(
  handler: (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>,
) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    Promise.resolve(handler(req, res, url)).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end('{"error":"fake upstream crashed"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Deterministic pseudo-random numbers (mulberry32), so a seed reproduces a data set. */
export function seededRandom(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a: a stable number from an address, so every fake agrees on a token's traits. */
export function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (const ch of text.toLowerCase()) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** Queued failures: the next `count` matching requests get `status`. */
export class FailureQueue {
  private rules: Array<{
    status: number;
    left: number;
    retryAfterSeconds?: number;
    match?: string;
    bodyCode?: number;
  }> = [];

  add(status: number, count = 1, opts: { retryAfterSeconds?: number; path?: string; bodyCode?: number } = {}) {
    this.rules.push({
      status,
      left: count,
      retryAfterSeconds: opts.retryAfterSeconds,
      match: opts.path,
      bodyCode: opts.bodyCode,
    });
  }

  take(path: string) {
    const rule = this.rules.find((r) => r.left > 0 && (!r.match || path.startsWith(r.match)));
    if (!rule) return null;
    rule.left--;
    this.rules = this.rules.filter((r) => r.left > 0);
    return rule;
  }
}

/**
 * How a fake upstream misbehaves until told otherwise, the way real ones do: `down` answers
 * 503 (a load balancer with no healthy backend), `slow` answers only after `delayMs` (longer
 * than the adapter's timeout), `garbage` answers HTTP 200 with `body` (a bot-protection page,
 * or JSON whose shape changed).
 */
export type Fault =
  { kind: 'down' } | { kind: 'slow'; delayMs: number } | { kind: 'garbage'; body: string; contentType?: string };

/**
 * Applies `fault` to one request. True when the request was answered (down, garbage); a slow
 * request is held first and then answered normally by the caller (false).
 */
export async function applyFault(fault: Fault | null, res: ServerResponse): Promise<boolean> {
  if (!fault) return false;
  if (fault.kind === 'down') {
    res
      .writeHead(503, { 'Content-Type': 'text/html' })
      .end('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>');
    return true;
  }
  if (fault.kind === 'garbage') {
    res.writeHead(200, { 'Content-Type': fault.contentType ?? 'application/json' }).end(fault.body);
    return true;
  }
  await new Promise((r) => setTimeout(r, fault.delayMs).unref());
  return false;
}
