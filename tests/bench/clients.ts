/**
 * Half of the bench's subscribers, in their own process: raw `ws` clients speaking each
 * server's protocol (tRPC v11, Socket.IO/engine.io v4, or nothing), so the client cost is the
 * same whichever server is measured. Driven over IPC by run.ts.
 */
import WebSocket from 'ws';
import { nowMs, sentAtOf } from './event';
import type { Target } from './server';

export type ClientCommand =
  | { cmd: 'connect'; target: Target; url: string; token?: string; count: number }
  | { cmd: 'stall'; target: Target; url: string; token?: string }
  | { cmd: 'stalled' }
  | { cmd: 'reset' }
  | { cmd: 'count' }
  | { cmd: 'report' }
  | { cmd: 'stop' };

let latencies: number[] = [];
let lastAt = 0;
let closes = 0;
const sockets: WebSocket[] = [];
/** The one subscriber that stops reading (slow-client scenario): not counted with the others. */
let stalled: { ws: WebSocket; closeCode: number | null } | null = null;

function onFrame(ws: WebSocket, text: string) {
  const sent = sentAtOf(text);
  if (sent !== null) {
    const now = nowMs();
    latencies.push(now - sent);
    lastAt = now;
    return;
  }
  if (text === 'PING') ws.send('PONG');
  else if (text === '2') ws.send('3'); // engine.io ping
}

function open(target: Target, url: string, token: string | undefined, counted = true): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    if (counted) sockets.push(ws);
    let ready = false;
    const subscribed = () => {
      ready = true;
      resolve(ws);
    };
    ws.on('open', () => {
      if (target === 'hubcast') {
        ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
        ws.send(
          JSON.stringify({
            id: 1,
            method: 'subscription',
            params: { path: 'market.live', input: { json: { symbol: 'BTCUSDT', timeframe: '1m' } } },
          }),
        );
      } else if (target === 'ws') subscribed();
    });
    ws.on('message', (data) => {
      const text = data.toString();
      if (!ready) {
        // Not "started": that comes before the resolver has joined the series (and may still refuse it).
        if (target === 'hubcast' && text.includes('"resume_point"')) subscribed();
        else if (target === 'socketio' && text.startsWith('0')) ws.send('40');
        else if (target === 'socketio' && text.startsWith('40')) subscribed();
        else if (text.includes('"error"')) reject(new Error(`subscription refused: ${text.slice(0, 200)}`));
      }
      if (counted) onFrame(ws, text);
    });
    if (counted) ws.on('close', () => void closes++);
    ws.on('error', (err) => (ready ? undefined : reject(err)));
  });
}

process.on('message', async (m: ClientCommand) => {
  switch (m.cmd) {
    case 'connect': {
      // A few hundred handshakes in flight at a time: a listen backlog is finite.
      try {
        for (let i = 0; i < m.count; i += 200) {
          await Promise.all(Array.from({ length: Math.min(200, m.count - i) }, () => open(m.target, m.url, m.token)));
        }
      } catch (err) {
        return process.send!({ connected: sockets.length, refused: String(err) });
      }
      return process.send!({ connected: sockets.length });
    }
    case 'stall': {
      // Subscribed like the others, then it stops reading from its socket altogether.
      const ws = await open(m.target, m.url, m.token, false);
      const s = (stalled = { ws, closeCode: null as number | null });
      ws.on('close', (code) => void (s.closeCode = code));
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      return process.send!({ ok: true });
    }
    case 'stalled':
      return process.send!({ closeCode: stalled?.closeCode ?? null });
    case 'reset':
      latencies = [];
      lastAt = 0;
      return process.send!({ ok: true });
    case 'count':
      return process.send!({ received: latencies.length, closes });
    case 'report':
      return process.send!({ latencies, lastAt, closes });
    case 'stop':
      for (const s of sockets) s.terminate();
      stalled?.ws.terminate();
      process.exit(0);
  }
});
process.send!({ ready: true });
