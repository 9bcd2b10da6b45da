import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterThis } from './cleanup';

/**
 * A loopback TCP door in front of a server, as a load balancer in front of a restarting
 * instance: browsers talk to the door's port, the door forwards every connection to `target`.
 * While shut it cuts each new connection at once (what a client sees while nothing listens), so
 * a test can act on the restarted server before any client reconnects. Closed after the file.
 */
export async function tcpGate(target: { host?: string; port: number }) {
  const sockets = new Set<Socket>();
  let shut = false;
  const server: Server = createServer((client) => {
    client.on('error', () => {});
    if (shut) return void client.destroy();
    const upstream = connect(target.port, target.host ?? '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    // Either side ending ends the other: a server that exits closes its clients' connections.
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const close = () => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => (server.listening ? server.close(() => r()) : r()));
  };
  afterThis(close);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** New connections are cut until open(); open ones stay. */
    shut: () => void (shut = true),
    open: () => void (shut = false),
    close,
  };
}
