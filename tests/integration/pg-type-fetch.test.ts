import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import postgres from 'postgres';
import { describe, expect, it, onTestFinished } from 'vitest';
import { waitFor } from '../helpers/wait';

// postgres.js fetches the array types as the first statement of every new connection and dropped
// that promise (porsager/postgres#1192): a connection reset at that moment, as a database restart
// or failover does, became an unhandled rejection, which ends a Node process. patches/ fixes it.
const url = process.env.DATABASE_URL;

/** A loopback proxy to Postgres that resets the first connection once it asks for the types. */
async function resettingProxy(target: URL) {
  let resets = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      if (resets === 0 && chunk.includes('pg_catalog.pg_type')) {
        resets++;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(target);
  proxied.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: proxied.toString(),
    resets: () => resets,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.skipIf(!url)('a Postgres connection reset while it fetches its types (needs DATABASE_URL)', () => {
  it('fails or retries that query, never an unhandled rejection, and the next query works', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => void unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    onTestFinished(() => void process.off('unhandledRejection', onUnhandled));
    const proxy = await resettingProxy(new URL(url!));
    onTestFinished(() => proxy.close());

    // The pool as server/db/client.ts opens it: its first query meets the reset, as after a restart.
    const pool = postgres(proxy.url, { max: 10, onnotice: () => {} });
    onTestFinished(() => pool.end({ timeout: 0 }));
    const first = await pool`select 1 as ok`.then(
      () => 'answered',
      (err: { code?: string }) => err.code,
    );
    expect(proxy.resets()).toBe(1);
    expect(['answered', 'ECONNRESET', 'CONNECTION_CLOSED']).toContain(first);
    expect(await pool`select 2 as ok`).toEqual([{ ok: 2 }]);
    // A rejection nobody handled shows up within a turn or two of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    await waitFor(() => unhandled.length === 0, { what: 'no unhandled rejection' });
    expect(unhandled).toEqual([]);
  });
});
