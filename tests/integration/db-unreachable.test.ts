import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db';
import { exited, spawnMain } from '../helpers/main-process';
import { testVaultKey } from '../helpers/app';
import { closedPort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';

// Postgres unreachable when the server starts (it boots before its database, or the database is
// down): one plain line per attempt with back-off, then either a normal start once Postgres
// answers, or a final line and exit code 1. Never a raw stack, never the password.

const STACK = /\n\s+at /;

/** The real entry point with its output collected; `url` is set once it listens. */
function start(databaseUrl: string, env: Record<string, string>) {
  const child = spawnMain({
    PATH: process.env.PATH,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    UPSTREAMS: 'demo',
    VAULT_KEY: testVaultKey,
    DATABASE_URL: databaseUrl,
    ...env,
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return { child, output: () => out, url: () => /Hubcast on (http:\/\/[\d.]+:\d+)/.exec(out)?.[1] };
}

/** The messages of the log lines (JSON, as the output is piped) about the database. */
const databaseLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { msg: string }).msg)
    .filter((m) => m.startsWith('database '));

/** A loopback TCP proxy to `target`; `listen(port)` opens it on a port that refused until then. */
function tcpProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  return {
    listen: (port: number) =>
      new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve)),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => (server.listening ? server.close(() => r()) : r()));
    },
  };
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('Postgres unreachable at start', () => {
  it(
    'says so in one line per attempt with the next wait, without the password or a stack, then gives up with exit code 1',
    { timeout: 60_000 },
    async () => {
      const port = await closedPort();
      const server = start(`postgres://hubcast:hunter2-secret@127.0.0.1:${port}/hubcast`, {
        DATABASE_CONNECT_RETRIES: '2',
        DATABASE_CONNECT_RETRY_MS: '100',
        DATABASE_CONNECT_RETRY_MAX_MS: '150',
      });
      expect(await exited(server.child)).toBe(1);
      const out = server.output();
      const where = `postgres://hubcast@127.0.0.1:${port}/hubcast`;
      expect(databaseLines(out)).toEqual([
        `database ${where} unreachable: connect ECONNREFUSED 127.0.0.1:${port}; attempt 1 of 3, next try in 0.1 s`,
        `database ${where} unreachable: connect ECONNREFUSED 127.0.0.1:${port}; attempt 2 of 3, next try in 0.15 s`,
        `database ${where} still unreachable after 3 attempts (connect ECONNREFUSED 127.0.0.1:${port}); giving up (DATABASE_CONNECT_RETRIES sets how many tries)`,
      ]);
      expect(out).not.toContain('hunter2-secret');
      expect(out).not.toMatch(STACK);
    },
  );

  // Needs a Postgres to forward to; PGlite runs have none (and PGlite cannot be unreachable).
  it.skipIf(!process.env.DATABASE_URL)(
    'starts normally once Postgres answers during the retries (needs DATABASE_URL)',
    { timeout: 120_000 },
    async () => {
      const database = await createTestDatabase();
      cleanups.push(() => database.close());
      const real = new URL(database.url!);
      const proxy = tcpProxy({ host: real.hostname, port: Number(real.port || 5432) });
      cleanups.push(() => proxy.close());
      const port = await closedPort();
      const viaProxy = new URL(database.url!);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(port);

      const server = start(viaProxy.toString(), {
        DATABASE_CONNECT_RETRIES: '1000',
        DATABASE_CONNECT_RETRY_MS: '100',
        DATABASE_CONNECT_RETRY_MAX_MS: '300',
      });
      cleanups.push(async () => {
        if (server.child.exitCode === null) server.child.kill('SIGKILL');
      });
      // Refused twice (so it is really retrying), then the database comes up.
      await waitFor(() => /attempt 2 of 1001, next try in/.test(server.output()), { what: 'a second refused attempt' });
      expect(server.url()).toBeUndefined();
      await proxy.listen(port);

      const url = await waitFor(server.url, { what: 'the server to listen once Postgres answers', timeoutMs: 90_000 });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(server.output()).not.toMatch(STACK);
      server.child.kill('SIGTERM');
      expect(await exited(server.child)).toBe(0);
    },
  );
});
