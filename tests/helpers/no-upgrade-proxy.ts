import { createServer, request, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterThis } from './cleanup';

/**
 * A loopback HTTP proxy in front of a server, as a corporate proxy or a misconfigured load
 * balancer that strips `Upgrade`: every request is forwarded (answers streamed as they come, so
 * server-sent events pass), every WebSocket upgrade is refused with a 502 and destroyed. With
 * `allowUpgrades(true)` upgrades pass through again (raw TCP to the server), as after the
 * proxy is fixed. Closed after the test or file that started it.
 */
export async function noUpgradeProxy(target: { port: number; host?: string }) {
  const host = target.host ?? '127.0.0.1';
  const sockets = new Set<Duplex>();
  const track = (s: Duplex) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  let upgrades = false;
  let refused = 0;

  const server = createServer((req, res) => {
    const upstream = request(
      { host, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    // The client leaving (an EventSource closed) ends the forwarded request too.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connection', track);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!upgrades) {
      refused++;
      socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nUpgrade refused');
      socket.destroy();
      return;
    }
    const upstream: Socket = connect(target.port, host, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    track(upstream);
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const close = () => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => (server.listening ? server.close(() => r()) : r()));
  };
  afterThis(close);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** How many WebSocket upgrades were refused so far. */
    refused: () => refused,
    /** Cuts every open connection (as a network failure would); new ones are served. */
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    allowUpgrades(on: boolean) {
      upgrades = on;
    },
    close,
  };
}
