/**
 * The chat bench's baseline, as a Socket.IO chat seed does it: each socket joins its
 * conversation's room at connection; a `send` is one INSERT with postgres.js into a plain
 * messages table, then an emit to the room (the sender's socket included, as Hubcast also
 * delivers to the sender's tabs) and an acknowledgement. Its own database; driven by run.ts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { Server } from 'socket.io';
import type { ServerCommand, ServerReady } from './protocol';

const [url, count] = [process.argv[2]!, Number(process.argv[3])];
// The pool Hubcast's postgres.js client opens (server/db/client.ts), so neither has more connections.
const sql = postgres(url, { max: 10, onnotice: () => {} });
// The index a seed needs to page a conversation's history; it is kept up on every insert.
await sql`create table messages (
  id bigserial primary key,
  conversation_id integer not null,
  sender_id text not null,
  content text not null,
  created_at timestamptz not null default now()
)`;
await sql`create index messages_conversation_idx on messages (conversation_id, id)`;

const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false });
io.on('connection', (socket) => {
  const conversationId = Number(socket.handshake.query.conversation);
  const userId = String(socket.handshake.query.user);
  void socket.join(`c:${conversationId}`);
  socket.on('send', async (input: { conversationId: number; content: string }, ack?: (r: unknown) => void) => {
    // A seed's membership check: the room the socket joined, nothing stored.
    if (input?.conversationId !== conversationId) return ack?.({ error: 'NOT_FOUND' });
    try {
      const [row] = await sql<{ id: string; created_at: Date }[]>`
        insert into messages (conversation_id, sender_id, content)
        values (${conversationId}, ${userId}, ${input.content})
        returning id, created_at`;
      const message = {
        id: Number(row!.id),
        conversationId,
        senderId: userId,
        content: input.content,
        createdAt: row!.created_at,
      };
      io.to(`c:${conversationId}`).emit('message', message);
      ack?.({ message });
    } catch (err) {
      // A callback has no caller to catch for it: answer the client and keep serving.
      ack?.({ error: String(err) });
    }
  });
});
await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
const port = (http.address() as AddressInfo).port;

const conversations: ServerReady['conversations'] = Array.from({ length: count }, (_, c) => ({
  id: c + 1,
  sides: [{ userId: `u${2 * c}` }, { userId: `u${2 * c + 1}` }],
}));
const inRooms = () =>
  [...io.of('/').adapter.rooms.entries()].reduce((a, [k, v]) => a + (k.startsWith('c:') ? v.size : 0), 0);

process.on('message', async (m: ServerCommand) => {
  if (m.cmd === 'cpu') return process.send!({ ...process.cpuUsage(), subscribers: inRooms() });
  await io.close();
  await sql.end({ timeout: 5 });
  process.exit(0);
});
process.send!({
  url: `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
  conversations,
} satisfies ServerReady);
