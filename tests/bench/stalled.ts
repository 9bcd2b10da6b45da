/**
 * The bench's slow client, in its own process so its reading (once it reads again) is not done
 * on the other subscribers' event loop: one WebSocket that stops reading in the middle of the
 * saturation burst. On Hubcast it holds STALL_SUBSCRIPTIONS `market.live` subscriptions, so
 * the burst sends it more than loopback's socket buffers absorb (see run.ts, extraClientBurst);
 * once cut it reads again, sees the close code, reconnects and resumes every subscription from
 * the last tracked id it got (tRPC's `lastEventId`), and checks that it got back what it missed.
 * With `reads` it is the slow client's twin: the same socket and subscriptions, reading normally.
 * Driven over IPC by run.ts.
 */
import WebSocket from 'ws';
import type { Target } from './server';

export type StalledCommand =
  | { cmd: 'open'; target: Target; url: string; token?: string; subscriptions: number; reads: boolean }
  | { cmd: 'read' }
  | { cmd: 'closed'; waitMs: number }
  | { cmd: 'resume'; url: string; token?: string; burst: number[]; waitMs: number }
  | { cmd: 'stop' };

/** What the resumed subscriptions got back of the burst events they had missed. */
export interface Recovery {
  subscriptions: number;
  /** Burst events not received before the cut, summed over subscriptions; and the fewest / most on one. */
  missed: number;
  missedRange: [number, number];
  recovered: number;
  /** Every subscription got a gap-free prefix of the burst before the cut, and the rest after, in order. */
  inOrder: boolean;
  /** Events it had already had that came again (a resume point before them). */
  repeated: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rawSocket = (ws: WebSocket) => (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;

let ws: WebSocket | null = null;
let closeCode: number | null = null;
/** Tracked ids received per subscription (index = request id − 1), before the cut. */
let before: number[][] = [];
let resumed: WebSocket | null = null;

/** A tRPC socket with `count` market.live subscriptions (request ids 1..count), each resuming from `from[i]` when given. */
function openHubcast(
  url: string,
  token: string | undefined,
  count: number,
  into: number[][],
  from: (number | null)[] = [],
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const s = new WebSocket(url, { perMessageDeflate: false });
    let started = 0;
    s.on('open', () => {
      s.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
      for (let i = 0; i < count; i++) {
        const lastEventId = from[i] == null ? {} : { lastEventId: String(from[i]) };
        s.send(
          JSON.stringify({
            id: i + 1,
            method: 'subscription',
            params: { path: 'market.live', input: { json: { symbol: 'BTCUSDT', timeframe: '1m' } }, ...lastEventId },
          }),
        );
      }
    });
    s.on('message', (data) => {
      const text = data.toString();
      if (text === 'PING') return s.send('PONG');
      const msg = JSON.parse(text) as { id?: number; result?: { type: string; id?: string }; error?: unknown };
      if (msg.error) return reject(new Error(`subscription refused: ${text.slice(0, 200)}`));
      if (msg.result?.type === 'started' && ++started === count) resolve(s);
      if (msg.result?.type === 'data' && msg.result.id !== undefined) into[msg.id! - 1]!.push(Number(msg.result.id));
    });
    s.on('error', (err) => (started < count ? reject(err) : undefined));
  });
}

/** A Socket.IO or bare ws subscriber like the others (one room, one socket), not counted. */
function openOther(target: Target, url: string, token: string | undefined): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const s = new WebSocket(url, { perMessageDeflate: false });
    let ready = false;
    const subscribed = () => {
      ready = true;
      resolve(s);
    };
    s.on('open', () => (target === 'ws' ? s.send(JSON.stringify({ token })) : undefined));
    s.on('message', (data) => {
      const text = data.toString();
      if (ready) return;
      if (target === 'ws' ? text === '{"joined":true}' : text.startsWith('40')) subscribed();
      else if (text.startsWith('0')) s.send(`40${JSON.stringify({ token })}`); // engine.io open, then join the default namespace
    });
    s.on('error', (err) => (ready ? undefined : reject(err)));
  });
}

/**
 * Per subscription: the burst events it got before the cut must be the burst's first ones, and
 * those after the resume the burst's last ones, together covering it (no gap) in order.
 */
export function recovery(burst: number[], got: number[][], again: number[][]): Recovery {
  const inBurst = new Set(burst);
  const r: Recovery = {
    subscriptions: got.length,
    missed: 0,
    missedRange: [Infinity, -Infinity],
    recovered: 0,
    inOrder: true,
    repeated: 0,
  };
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  for (let s = 0; s < got.length; s++) {
    const had = got[s]!.filter((id) => inBurst.has(id));
    const back = again[s]!.filter((id) => inBurst.has(id));
    const from = burst.length - back.length;
    if (!same(had, burst.slice(0, had.length)) || !same(back, burst.slice(from)) || from > had.length)
      r.inOrder = false;
    const missed = burst.length - had.length;
    const hadSet = new Set(had);
    const recovered = back.filter((id) => !hadSet.has(id)).length;
    r.missed += missed;
    r.missedRange = [Math.min(r.missedRange[0], missed), Math.max(r.missedRange[1], missed)];
    r.recovered += recovered;
    r.repeated += back.length - recovered;
  }
  return r;
}

process.on('message', async (m: StalledCommand) => {
  const reply = (v: unknown) => process.send!(v);
  switch (m.cmd) {
    case 'open': {
      before = Array.from({ length: m.subscriptions }, () => []);
      ws =
        m.target === 'hubcast'
          ? await openHubcast(m.url, m.token, m.subscriptions, before)
          : await openOther(m.target, m.url, m.token);
      ws.on('close', (code) => void (closeCode = code));
      // It stops reading from its socket altogether: what it was sent piles up in the kernel, then in the server.
      // (Its twin, `reads`, keeps reading: the same load on the server without the stall.)
      if (!m.reads) rawSocket(ws).pause();
      return reply({ ok: true });
    }
    case 'read':
      if (ws) rawSocket(ws).resume();
      return reply({ ok: true });
    case 'closed': {
      const deadline = Date.now() + m.waitMs;
      while (closeCode === null && Date.now() < deadline) await sleep(20);
      return reply({ closeCode });
    }
    case 'resume': {
      // What a client does after 4008: reconnect, and resume each subscription from the last tracked id it got.
      const again: number[][] = before.map(() => []);
      const last = m.burst.at(-1);
      resumed = await openHubcast(
        m.url,
        m.token,
        before.length,
        again,
        before.map((ids) => ids.at(-1) ?? null),
      );
      const deadline = Date.now() + m.waitMs;
      let seen = -1;
      let quietSince = Date.now();
      for (;;) {
        const total = again.reduce((a, ids) => a + ids.length, 0);
        if (again.every((ids) => ids.includes(last!)) || Date.now() > deadline) break;
        if (total !== seen) [seen, quietSince] = [total, Date.now()];
        else if (Date.now() - quietSince > 3000) break; // nothing more is coming
        await sleep(50);
      }
      return reply(recovery(m.burst, before, again));
    }
    case 'stop':
      ws?.terminate();
      resumed?.terminate();
      process.exit(0);
  }
});
process.send!({ ready: true });
