/**
 * Half of the bench's subscribers, in their own process: raw `ws` clients speaking each
 * server's protocol (tRPC v11, Socket.IO/engine.io v4, or nothing), so the client cost is the
 * same whichever server is measured. Driven over IPC by run.ts.
 */
import WebSocket from 'ws';
import { nowMs, sentAtOf, UNSTORED_ID_BASE } from './event';
import type { Target } from './server';

export type ClientCommand =
  /** `tokens`: one per socket, each authenticating on its own (the connect-and-subscribe figure). */
  /** `symbols` (Hubcast): socket i subscribes to symbols[i % length] instead of BTCUSDT. */
  | {
      cmd: 'connect';
      target: Target;
      url: string;
      token?: string;
      tokens?: string[];
      count: number;
      symbols?: string[];
    }
  | { cmd: 'stall'; target: Target; url: string; token?: string }
  /** Hubcast after a restart: every socket again, each resuming from its last stored id; `ids`: every stored event (it must get those after that id). */
  | { cmd: 'resume'; url: string; ids: number[]; waitMs: number }
  | { cmd: 'stalled' }
  | { cmd: 'reset' }
  | { cmd: 'count' }
  | { cmd: 'report' }
  | { cmd: 'stop' };

let latencies: number[] = [];
let lastAt = 0;
let closes = 0;
const sockets: WebSocket[] = [];
/**
 * Per counted Hubcast socket: its token and the last stored event id it got (first the resume
 * point it was sent), the id it resumes from after a restart, as a reconnecting page does.
 */
const resumeFrom = new Map<WebSocket, { token: string | undefined; id: string }>();
/** The one subscriber that stops reading (slow-client scenario): not counted with the others. */
let stalled: { ws: WebSocket; closeCode: number | null } | null = null;

function onFrame(ws: WebSocket, text: string) {
  const sent = sentAtOf(text);
  const resume = sent !== null ? resumeFrom.get(ws) : undefined;
  if (resume) {
    const id = /"id":"(\d+)"/.exec(text)?.[1];
    if (id && Number(id) < UNSTORED_ID_BASE) resume.id = id;
  }
  if (sent !== null) {
    const now = nowMs();
    latencies.push(now - sent);
    lastAt = now;
    return;
  }
  if (text === 'PING') ws.send('PONG');
  else if (text === '2') ws.send('3'); // engine.io ping
}

function open(
  target: Target,
  url: string,
  token: string | undefined,
  counted = true,
  symbol = 'BTCUSDT',
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    if (counted) sockets.push(ws);
    let ready = false;
    const subscribed = () => {
      ready = true;
      resolve(ws);
    };
    ws.on('open', () => {
      if (target === 'ws') ws.send(JSON.stringify({ token }));
      if (target === 'hubcast') {
        ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
        ws.send(
          JSON.stringify({
            id: 1,
            method: 'subscription',
            params: { path: 'market.live', input: { json: { symbol, timeframe: '1m' } } },
          }),
        );
      }
    });
    ws.on('message', (data) => {
      const text = data.toString();
      if (!ready) {
        // Not "started": that comes before the resolver has joined the series (and may still refuse it).
        if (target === 'hubcast' && text.includes('"resume_point"')) {
          if (counted) resumeFrom.set(ws, { token, id: /"id":"(\d+)"/.exec(text)?.[1] ?? '0' });
          subscribed();
        } else if (target === 'socketio' && text.startsWith('0')) ws.send(`40${JSON.stringify({ token })}`);
        else if (target === 'socketio' && text.startsWith('40')) subscribed();
        else if (target === 'socketio' && text.startsWith('44')) reject(new Error(`refused: ${text.slice(0, 200)}`));
        else if (target === 'ws' && text === '{"joined":true}') subscribed();
        else if (text.includes('"error"')) reject(new Error(`subscription refused: ${text.slice(0, 200)}`));
      }
      if (counted) onFrame(ws, text);
    });
    if (counted) ws.on('close', () => void closes++);
    ws.on('close', (code) => (ready ? undefined : reject(new Error(`closed before it subscribed (${code})`))));
    ws.on('error', (err) => (ready ? undefined : reject(err)));
  });
}

/** Reconnects and resumes from `from`; resolves with the stored events it got back, once it has `want` (or any answer when `want` is empty) or after `waitMs`. */
function resumeOne(url: string, token: string | undefined, from: string, want: Set<number>, waitMs: number) {
  return new Promise<{ got: Set<number>; repeated: number }>((resolve) => {
    const got = new Set<number>();
    let repeated = 0;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    sockets.push(ws);
    const timer = setTimeout(() => resolve({ got, repeated }), waitMs);
    ws.on('open', () => {
      ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
      ws.send(
        JSON.stringify({
          id: 1,
          method: 'subscription',
          params: { path: 'market.live', input: { json: { symbol: 'BTCUSDT', timeframe: '1m' } }, lastEventId: from },
        }),
      );
    });
    ws.on('message', (data) => {
      const text = data.toString();
      if (text === 'PING') return ws.send('PONG');
      const id = Number(/"id":"(\d+)"/.exec(text)?.[1]);
      // Nothing to get back: resumed once the server answers.
      if (want.size === 0) {
        clearTimeout(timer);
        return resolve({ got, repeated });
      }
      if (!want.has(id)) return;
      if (got.has(id)) repeated++;
      got.add(id);
      if (got.size === want.size) {
        clearTimeout(timer);
        resolve({ got, repeated });
      }
    });
    ws.on('error', () => {});
  });
}

process.on('message', async (m: ClientCommand) => {
  switch (m.cmd) {
    case 'connect': {
      // A few hundred handshakes in flight at a time: a listen backlog is finite.
      try {
        for (let i = 0; i < m.count; i += 200) {
          await Promise.all(
            Array.from({ length: Math.min(200, m.count - i) }, (_, j) =>
              open(m.target, m.url, m.tokens?.[i + j] ?? m.token, true, m.symbols?.[(i + j) % m.symbols.length]),
            ),
          );
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
    case 'resume': {
      // The sockets the restart closed, again, in the same 200-at-a-time waves as the first connect.
      const before = [...resumeFrom.values()];
      resumeFrom.clear();
      sockets.length = 0;
      let resumed = 0;
      let replayed = 0;
      let missing = 0;
      let repeated = 0;
      let wanted = 0;
      for (let i = 0; i < before.length; i += 200) {
        const wave = await Promise.all(
          before.slice(i, i + 200).map(async (b) => {
            // What it must get back: every stored event after the last one it got.
            const want = new Set(m.ids.filter((id) => id > Number(b.id)));
            return { want, ...(await resumeOne(m.url, b.token, b.id, want, m.waitMs)) };
          }),
        );
        for (const r of wave) {
          if (r.got.size === r.want.size) resumed++;
          replayed += r.got.size;
          missing += r.want.size - r.got.size;
          repeated += r.repeated;
          wanted += r.want.size;
        }
      }
      return process.send!({ resumed, replayed, missing, repeated, wanted });
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
