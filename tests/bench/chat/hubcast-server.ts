/**
 * The chat bench's Hubcast: the real app and HTTP/WebSocket server on the run's own Postgres
 * database (DATABASE_URL), in its own process so its CPU is its own. Accounts are rows and
 * sessions as sign-up makes them (scrypt's cost is not what is measured); the conversations
 * are made through the real invite and respond procedures. Driven over IPC by run.ts.
 */
import { randomUUID } from 'node:crypto';
import { throwawayVaultKey } from '../event';
import { createApp } from '../../../server/app';
import { createSession, generateSessionToken } from '../../../server/modules/auth/session';
import { loadConfig } from '../../../server/config';
import { createContextInner } from '../../../server/context';
import { users } from '../../../server/db/schema';
import { openDatabase } from '../../../server/db/client';
import { startDemoUpstreams } from '../../../server/demo';
import { startServer } from '../../../server/http';
import { appRouter } from '../../../server/router';
import { createCallerFactory } from '../../../server/trpc';
import type { ServerCommand, ServerReady } from './protocol';

const conversationCount = Number(process.argv[2]);

// No upstream is subscribed to, but the demo fakes keep the process off the network whatever runs.
const demo = await startDemoUpstreams();
const config = loadConfig({
  ...process.env,
  ...demo.env,
  LOG_LEVEL: 'warn',
  PORT: '0',
  UPSTREAMS: 'demo',
  VAULT_KEY: throwawayVaultKey(),
  // Every bench socket comes from loopback: the per-address cap (200) would refuse the 201st.
  WS_MAX_SOCKETS_PER_ADDRESS: '1000000',
});
if (!config.DATABASE_URL) throw new Error('the chat bench measures Hubcast on Postgres: set DATABASE_URL');
const app = await createApp(config, { database: await openDatabase({ url: config.DATABASE_URL, dataDir: null }) });
const server = await startServer(app, { port: 0 });
const createCaller = createCallerFactory(appRouter);

const rows = Array.from({ length: conversationCount * 2 }, (_, i) => ({
  id: randomUUID(),
  email: `chatbench-${i}-${randomUUID().slice(0, 6)}@example.com`,
  name: `Bench ${i}`,
}));
await app.db.insert(users).values(rows);
const tokens = rows.map(() => generateSessionToken());
const callers = await Promise.all(
  rows.map(async (u, i) => {
    await createSession(app.db, tokens[i]!, u.id);
    const { user, session } = await app.auth.validate(tokens[i]!);
    return createCaller(createContextInner({ app, user, session, authVia: 'bearer' }));
  }),
);
// Conversation c is between users 2c (side 0) and 2c + 1 (side 1).
const conversations: ServerReady['conversations'] = [];
for (let c = 0; c < conversationCount; c++) {
  const [a, b] = [2 * c, 2 * c + 1];
  const { invitationId } = await callers[a]!.chat.invite({ toUserId: rows[b]!.id });
  const { conversationId } = await callers[b]!.chat.respond({ invitationId, action: 'accept' });
  conversations.push({
    id: conversationId!,
    sides: [
      { userId: rows[a]!.id, token: tokens[a]! },
      { userId: rows[b]!.id, token: tokens[b]! },
    ],
  });
}

process.on('message', async (m: ServerCommand) => {
  if (m.cmd === 'cpu') return process.send!({ ...process.cpuUsage(), subscribers: subscribers() });
  // Closing the app ends its Postgres pool, so run.ts can drop the database afterwards.
  await server.close().catch(() => {});
  await app.close().catch(() => {});
  await demo.close().catch(() => {});
  process.exit(0);
});
const subscribers = () => app.stats.subscriptionsByPath()['chat.events'] ?? 0;
process.send!({ url: server.url.replace('http', 'ws') + '/trpc', conversations } satisfies ServerReady);
