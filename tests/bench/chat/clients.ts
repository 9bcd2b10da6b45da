/**
 * Half of the chat bench's users, in their own process: side 0 of every conversation in one
 * process, side 1 in the other, so each message crosses from one to the other. On Hubcast each
 * user is what a browser tab is: @trpc/client over one WebSocket (wsLink, superjson), subscribed
 * to `chat.events`, sending with `chat.send`. On Socket.IO, a raw engine.io v4 socket (the fan-out
 * bench's clients do the same; no socket.io-client here). Driven over IPC by run.ts.
 */
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import superjson from 'superjson';
import WebSocket from 'ws';
import type { AppRouter } from '../../../server/router';
import { isResumePoint } from '../../../shared/system';
import { nowMs } from '../event';
import {
  contentFor,
  conversationOf,
  dueOf,
  sideOf,
  type ClientCommand,
  type ClientReport,
  type Seat,
  type SendReport,
} from './protocol';

type Send = (conversationId: number, content: string) => Promise<void>;
interface User {
  seat: Seat;
  send: Send;
  close: () => void;
}

let latencies: number[] = [];
let lastAt = 0;
const users = new Map<number, User>(); // by conversation index

/** A message from the peer arrived: its latency from when it was due to be sent. */
function received(seat: Seat, senderId: string, content: string) {
  if (senderId === seat.userId) return; // the sender's own copy
  const due = dueOf(content);
  if (due === null) return;
  lastAt = nowMs();
  latencies.push(lastAt - due);
}

function hubcastUser(url: string, seat: Seat): Promise<User> {
  return new Promise((resolve, reject) => {
    const ws = createWSClient({
      url,
      // Node 20 has no global WebSocket.
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: () => ({ token: seat.token }),
    });
    const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws, transformer: superjson })] });
    const user: User = {
      seat,
      send: async (conversationId, content) => void (await client.chat.send.mutate({ conversationId, content })),
      close: () => void ws.close(),
    };
    client.chat.events.subscribe(undefined, {
      onData: ({ data }) => {
        // The resume point comes once live delivery has started: from then on nothing is missed.
        if (isResumePoint(data)) return resolve(user);
        if (data.type === 'new_message') received(seat, data.message.senderId, data.message.content);
      },
      onError: (err) => reject(err),
    });
  });
}

function socketioUser(url: string, seat: Seat): Promise<User> {
  return new Promise((resolve, reject) => {
    const q = `&user=${encodeURIComponent(seat.userId)}&conversation=${seat.conversationId}`;
    const ws = new WebSocket(url + q, { perMessageDeflate: false });
    let ackId = 0;
    const acks = new Map<number, (r: { error?: string }) => void>();
    const user: User = {
      seat,
      send: (conversationId, content) =>
        new Promise((ok, fail) => {
          const id = ackId++;
          acks.set(id, (r) => (r.error ? fail(new Error(r.error)) : ok()));
          ws.send(`42${id}${JSON.stringify(['send', { conversationId, content }])}`);
        }),
      close: () => ws.terminate(),
    };
    ws.on('message', (raw) => {
      const text = raw.toString();
      if (text.startsWith('42')) {
        const [, message] = JSON.parse(text.slice(2)) as [string, { senderId: string; content: string }];
        return received(seat, message.senderId, message.content);
      }
      const ack = /^43(\d+)/.exec(text);
      if (ack) {
        const id = Number(ack[1]);
        const [r] = JSON.parse(text.slice(2 + ack[1]!.length)) as [{ error?: string }];
        acks.get(id)?.(r);
        return void acks.delete(id);
      }
      if (text === '2')
        ws.send('3'); // engine.io ping
      else if (text.startsWith('0')) ws.send('40');
      else if (text.startsWith('40'))
        resolve(user); // in its room: the server joins it on connection
      else if (text.startsWith('44')) reject(new Error(`refused: ${text}`));
    });
    ws.on('error', reject);
  });
}

async function sendShare(m: Extract<ClientCommand, { cmd: 'send' }>): Promise<SendReport> {
  const total = Math.round(m.rate * m.seconds);
  const refused: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  let sent = 0;
  for (let k = 0; k < total; k++) {
    const user = users.get(conversationOf(k, m.conversations));
    if (!user || user.seat.side !== sideOf(k, m.conversations)) continue;
    // Paced on the wall clock; a send is not awaited, as a person's next message does not wait for the last ack.
    const due = m.start + (k * 1000) / m.rate;
    const wait = due - nowMs();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sent++;
    pending.push(
      user.send(user.seat.conversationId, contentFor(k, due)).catch((err: unknown) => {
        const code = (err as { data?: { code?: string } }).data?.code ?? String(err).slice(0, 80);
        refused[code] = (refused[code] ?? 0) + 1;
      }),
    );
  }
  await Promise.all(pending);
  return { sent, refused };
}

process.on('message', async (m: ClientCommand) => {
  switch (m.cmd) {
    case 'connect': {
      const open = m.target === 'hubcast' ? hubcastUser : socketioUser;
      try {
        // A few dozen handshakes in flight at a time: a listen backlog is finite.
        for (let i = 0; i < m.seats.length; i += 25) {
          const batch = await Promise.all(m.seats.slice(i, i + 25).map((s) => open(m.url, s)));
          for (const u of batch) users.set(u.seat.index, u);
        }
        return process.send!({ connected: users.size });
      } catch (err) {
        return process.send!({ connected: users.size, refused: String(err) });
      }
    }
    case 'send':
      return process.send!(await sendShare(m));
    case 'count':
      return process.send!({ received: latencies.length });
    case 'report': {
      const r: ClientReport = { latencies, lastAt };
      latencies = [];
      lastAt = 0;
      return process.send!(r);
    }
    case 'stop':
      for (const u of users.values()) u.close();
      process.exit(0);
  }
});
process.send!({ ready: true });
