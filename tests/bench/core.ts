/**
 * `npm run bench:core`: figures for the realtime core, printed, never asserted.
 *   - fan-out: one event to each of N signed-in WebSocket clients, end-to-end latency percentiles
 *   - replay: how fast a reconnecting client catches up on M missed events
 * Feature benchmarks register themselves in ./suites.ts.
 */
import { performance } from 'node:perf_hooks';
import { createApp } from '../../server/app';
import { loadConfig } from '../../server/config';
import { openDatabase } from '../../server/db/client';
import { startServer } from '../../server/http';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import superjson from 'superjson';
import { skipResumePoint } from '../helpers/resume-point';
import WebSocket from 'ws';
import type { AppRouter } from '../../server/router';
import { throwawayVaultKey } from './event';
import { suites } from './suites';
import { deliver } from '../helpers/inbox';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 200);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20);
const REPLAY = Number(process.env.BENCH_REPLAY ?? 5000);

const pct = (xs: number[], p: number) =>
  xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function main() {
  // BENCH_CLIENTS sockets, all from loopback: the per-address socket cap would refuse them.
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: 'warn',
    PORT: '0',
    UPSTREAMS: 'demo',
    VAULT_KEY: throwawayVaultKey(),
    WS_MAX_SOCKETS_PER_ADDRESS: '1000000',
  });
  const app = await createApp(config, { database: await openDatabase({ url: config.DATABASE_URL, dataDir: null }) });
  const server = await startServer(app, { port: 0 });
  console.log(`database: ${app.database.kind}; ${CLIENTS} clients, ${EVENTS} events each, ${REPLAY} replayed events`);

  const users = [];
  for (let i = 0; i < CLIENTS; i++) {
    const email = `bench-${i}-${Date.now()}@example.com`;
    const { user, session } = await app.auth.signUp({ email, name: `Bench ${i}`, password: 'benchmark password' });
    users.push({ user, token: await tokenFor(app, session.id, user.id) });
  }

  const latencies: number[] = [];
  const sockets: ReturnType<typeof createWSClient>[] = [];
  let received = 0;
  await Promise.all(
    users.map(
      ({ token }) =>
        new Promise<void>((started) => {
          const ws = createWSClient({
            url: `${server.url.replace('http', 'ws')}/trpc`,
            WebSocket: WebSocket as never,
            connectionParams: { token },
          });
          sockets.push(ws);
          const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws, transformer: superjson })] });
          client.system.notifications.subscribe(undefined, {
            onStarted: () => started(),
            onData: skipResumePoint(({ data }) => {
              latencies.push(performance.now() - (data.payload as { sentAt: number }).sentAt);
              received++;
            }),
          });
        }),
    ),
  );

  const t0 = performance.now();
  for (let e = 0; e < EVENTS; e++) {
    await deliver(
      app,
      users.map(({ user }) => ({
        userId: user.id,
        feature: 'bench',
        type: 'tick',
        payload: { sentAt: performance.now() },
      })),
    );
  }
  while (received < CLIENTS * EVENTS) await new Promise((r) => setTimeout(r, 5));
  const elapsed = performance.now() - t0;
  console.log(
    `fan-out: ${received} deliveries in ${elapsed.toFixed(0)} ms (${((received / elapsed) * 1000).toFixed(0)}/s); ` +
      `latency p50 ${pct(latencies, 50).toFixed(1)} ms, p95 ${pct(latencies, 95).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms`,
  );
  await Promise.all(sockets.map((s) => s.close()));

  const target = users[0]!;
  const [first] = await deliver(app, [{ userId: target.user.id, feature: 'bench', type: 'mark', payload: {} }]);
  for (let done = 0; done < REPLAY; done += 500) {
    await deliver(
      app,
      Array.from({ length: 500 }, () => ({ userId: target.user.id, feature: 'bench', type: 'missed', payload: {} })),
    );
  }
  const r0 = performance.now();
  let replayed = 0;
  const ac = new AbortController();
  for await (const _ of app.inbox.stream(
    { userId: target.user.id, lastEventId: String(first!.id) },
    { sessionSignal: ac.signal, requestSignal: undefined },
  )) {
    if (++replayed === REPLAY) break;
  }
  const replayMs = performance.now() - r0;
  console.log(
    `replay: ${replayed} missed events in ${replayMs.toFixed(0)} ms (${((replayed / replayMs) * 1000).toFixed(0)}/s)`,
  );

  for (const suite of suites) await suite(app, server);
  await server.close();
  await app.close();
}

/** Benchmarks mint tokens directly: the scrypt cost of sign-in is not what is measured. */
async function tokenFor(app: Awaited<ReturnType<typeof createApp>>, _sessionId: string, userId: string) {
  const { generateSessionToken, createSession } = await import('../../server/modules/auth/session');
  const token = generateSessionToken();
  await createSession(app.db, token, userId);
  return token;
}

await main();
process.exit(0);
