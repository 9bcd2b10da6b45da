/**
 * What one `chat.send` costs the database (issue #21): not a test, a measurement.
 *
 *   npx tsx tests/profile/chat-send.ts [messages=40]
 *   PROFILE_PG=postgres://postgres@127.0.0.1:5432 (the default) picks the server.
 *
 * Creates a database of its own (hubcast_profile_<pid>), migrates it, starts an App on it, signs
 * up two people in one conversation and opens the recipient's `chat.events`. Each message is sent
 * through the caller and awaited on that subscription, so the window holds the whole path: rate
 * limit, send, delivery (and its per-event authorisation). pg_stat_database is read before and
 * after (a backend reports its counters about a second after it goes idle, hence the pauses) and
 * the same quiet window without sends is subtracted (election heartbeats and the like). The
 * statements come from postgres.js's `debug` hook on the App's pool; the bus and the elector use
 * connections of their own, so their statements are counted in the figures but not listed.
 * Autovacuum is off on the tables (its ANALYZE would show up as rows inserted, into pg_statistic);
 * a late report from another backend can still move a figure by a few tenths, so the App pool's
 * transactions are also counted exactly, from the statements (each outside begin…commit is one).
 * Drops the database at the end.
 */
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { createApp } from '../../server/app';
import { loadConfig } from '../../server/config';
import { createContextInner } from '../../server/context';
import { migrationsFolder, type Database } from '../../server/db/client';
import * as schema from '../../server/db/schema';
import { appRouter } from '../../server/router';
import { createCallerFactory } from '../../server/trpc';

const N = Number(process.argv[2] ?? 40);
const server = process.env.PROFILE_PG ?? 'postgres://postgres@127.0.0.1:5432';
const name = `hubcast_profile_${process.pid}`;
const withDb = (db: string) => Object.assign(new URL(server), { pathname: `/${db}` }).toString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const admin = postgres(withDb('postgres'), { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE "${name}"`);
const url = withDb(name);

// Statement text → times run while `counting`.
const statements = new Map<string, number>();
let counting = false;
let transactions = 0;
const inTransaction = new Set<unknown>();
const pool = postgres(url, {
  max: 10,
  onnotice: () => {},
  debug: (conn, query) => {
    if (!counting) return;
    const text = query.replace(/\s+/g, ' ').trim();
    statements.set(text, (statements.get(text) ?? 0) + 1);
    if (/^begin/i.test(text)) inTransaction.add(conn);
    else if (/^(commit|rollback)/i.test(text)) inTransaction.delete(conn);
    if (!inTransaction.has(conn) || /^begin/i.test(text)) transactions += /^(commit|rollback)/i.test(text) ? 0 : 1;
  },
});
const db = drizzle(pool, { schema, casing: 'snake_case' });
await migrate(db, { migrationsFolder });
// Autovacuum's ANALYZE of the freshly written tables lands in the same counters (pg_statistic rows).
for (const { t } of await pool<{ t: string }[]>`select tablename as t from pg_tables where schemaname = 'public'`)
  await pool.unsafe(`alter table "${t}" set (autovacuum_enabled = false)`);
const database: Database = {
  db,
  kind: 'postgres',
  url,
  close: () => pool.end({ timeout: 5 }),
};

const config = loadConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  PORT: '0',
  UPSTREAMS: 'demo',
  PASSWORD_HASH_COST: '10',
  VAULT_KEY: Buffer.alloc(32, 7).toString('base64'),
  DATABASE_URL: url,
});
const app = await createApp(config, { database });
const createCaller = createCallerFactory(appRouter);

async function person(n: number) {
  const anon = createCaller(createContextInner({ app, request: { ip: `198.51.100.${n}` } }));
  const { token } = await anon.auth.signUp({
    email: `p${n}@example.com`,
    name: `p${n}`,
    password: 'correct horse battery',
  });
  const { user, session } = await app.auth.validate(token);
  return { user: user!, caller: createCaller(createContextInner({ app, user, session, authVia: 'bearer' })) };
}

const stats = async () => {
  const [row] = await admin<{ c: string; i: string; f: string }[]>`
    select xact_commit as c, tup_inserted as i, tup_fetched as f from pg_stat_database where datname = ${name}`;
  return { commits: Number(row!.c), inserted: Number(row!.i), fetched: Number(row!.f) };
};
type Figures = Awaited<ReturnType<typeof stats>>;
const minus = (a: Figures, b: Figures): Figures => ({
  commits: a.commits - b.commits,
  inserted: a.inserted - b.inserted,
  fetched: a.fetched - b.fetched,
});

try {
  const a = await person(1);
  const b = await person(2);
  const { invitationId } = await a.caller.chat.invite({ toUserId: b.user.id });
  const { conversationId } = await b.caller.chat.respond({ invitationId, action: 'accept' });

  const received: string[] = [];
  let wake = () => {};
  const events = await b.caller.chat.events();
  void (async () => {
    for await (const e of events as AsyncIterable<unknown>) {
      // Through createCaller a tracked event arrives as its [id, data] envelope.
      const data = (Array.isArray(e) ? e[1] : (e as { data: unknown }).data) as {
        type: string;
        message?: { content: string };
      };
      if (data.type === 'new_message') received.push(data.message!.content);
      wake();
    }
    // Closing the App at the end signs the subscription out: that is its end, not a failure.
  })().catch(() => {});
  const delivered = async (content: string) => {
    while (!received.includes(content)) await new Promise<void>((r) => (wake = r));
  };

  // Warm-up: connections open, types fetched, the subscription past its resume point.
  for (let i = 0; i < 5; i++) {
    const content = `warm-${i}`;
    await a.caller.chat.send({ conversationId: conversationId!, content });
    await delivered(content);
  }
  // The send limit (30 per 10 s) would refuse a long run: wait out each window's worth.
  const paced = async (i: number) => {
    if (i > 0 && i % 25 === 0) await sleep(10_500);
  };

  // Backends report their counters a while after going idle: let setup's reach the table first.
  await sleep(5_000);
  const quiet0 = await stats();
  await sleep(2_500);
  const quiet = minus(await stats(), quiet0);
  const quietMs = 2_500;

  await sleep(1_500);
  const before = await stats();
  counting = true;
  const started = Date.now();
  let pausedMs = 0;
  for (let i = 0; i < N; i++) {
    const t = Date.now();
    await paced(i);
    pausedMs += Date.now() - t;
    const content = `m-${i}`;
    await a.caller.chat.send({ conversationId: conversationId!, content, clientId: `client-${process.pid}-${i}` });
    await delivered(content);
  }
  const busyMs = Date.now() - started - pausedMs;
  counting = false;
  await sleep(2_500);
  const windowMs = Date.now() - started;
  const raw = minus(await stats(), before);
  // The quiet rate over the whole window (background work keeps going during the sends).
  const scale = windowMs / quietMs;
  const per = (k: keyof Figures) => ((raw[k] - quiet[k] * scale) / N).toFixed(2);

  console.log(`${N} messages, ${(busyMs / N).toFixed(1)} ms each (send + delivery, one at a time)`);
  console.log(
    `per message: xact_commit ${per('commits')}, tup_inserted ${per('inserted')}, tup_fetched ${per('fetched')}`,
  );
  console.log(
    `(raw over the window: ${JSON.stringify(raw)}; quiet ${quietMs} ms: ${JSON.stringify(quiet)}, scaled ×${scale.toFixed(1)})`,
  );
  console.log(`App pool: ${(transactions / N).toFixed(2)} transactions per message (exact)`);
  console.log('statements on the App pool, per message:');
  for (const [text, n] of [...statements].sort((x, y) => y[1] - x[1]))
    console.log(`  ${(n / N).toFixed(2)}  ${text.length > 220 ? `${text.slice(0, 220)}…` : text}`);
} finally {
  await app.close().catch(() => {});
  await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end({ timeout: 5 });
}
// The subscription's generator is still parked on its queue; nothing else is left to wait for.
process.exit(0);
