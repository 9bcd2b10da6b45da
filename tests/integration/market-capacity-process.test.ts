import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createSession, generateSessionToken } from '../../server/modules/auth/session';
import { openDatabase } from '../../server/db/client';
import { marketStrategies, users } from '../../server/db/schema';
import { FakeBinance } from '../../server/demo/binance';
import { TEST_HASH_COST } from '../helpers/app';
import { httpClient } from '../helpers/clients';
import { FAKE_START } from '../helpers/market';
import { manySymbols, seedSeries } from '../helpers/market-symbols';
import { exited, mainStorage, startMain } from '../helpers/main-process';
import { waitFor } from '../helpers/wait';

// Issue 18 §1, the permanent form: 1,100 enabled strategies on distinct symbols (more than one
// Binance connection carries, 1,024) made the server crash about a minute after every start,
// until someone edited the database. Here the real process (tsx server/main.ts) restarts on a
// database holding them, against a loopback Binance listing the symbols: it follows all 1,100
// over two upstream connections and keeps answering /healthz well past the window in which the
// old code died (on Postgres, the cluster feed's reconcile runs every 5 s: ANNOUNCE_MS in
// server/modules/market/cluster-feed.ts, not a setting).

const SERIES = 1100;
const USERS = 13;
/** Four reconcile/announcement periods after the last subscription, and at least a minute after the start. */
const WATCH_AFTER_FOLLOWED_MS = 20_000;
const WATCH_AFTER_START_MS = 60_000;

// At file level: cleanups registered inside a test would not run.
const storage = await mainStorage('hubcast-capacity-');
const fake = await FakeBinance.start({ start: FAKE_START });
afterAll(() => fake.close());

describe('a restart with 1,100 enabled strategies on distinct symbols', () => {
  it('follows all of them over two upstream connections and keeps serving', { timeout: 240_000 }, async () => {
    const symbols = manySymbols(SERIES);
    fake.listSymbols(symbols);
    const nowhere = 'http://127.0.0.1:9';
    const env = {
      ...storage,
      ...fake.env,
      UPSTREAMS: 'live',
      NODE_ENV: 'test',
      PASSWORD_HASH_COST: TEST_HASH_COST,
      DEXSCREENER_URL: nowhere,
      GOPLUS_URL: nowhere,
      VINTED_URL: nowhere,
      VINTED_API_URL: nowhere,
    };

    // A first start creates the schema (PGlite) and shows the server runs here at all.
    const first = await startMain(env);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await exited(first.child)).toBe(0);

    // Directly in its database (PGlite allows one process at a time): 13 users, one stored candle
    // per series (no history fetch), 1,100 enabled strategies, and a session to call the API with.
    const database = await openDatabase(
      'DATABASE_URL' in storage ? { url: storage.DATABASE_URL } : { dataDir: storage.DATA_DIR },
    );
    const token = generateSessionToken();
    try {
      const rows = Array.from({ length: USERS }, (_, i) => ({
        id: randomUUID(),
        email: `trader-${i}@example.com`,
        name: `Trader ${i}`,
      }));
      await database.db.insert(users).values(rows);
      await createSession(database.db, token, rows[0]!.id);
      await seedSeries(database, symbols, FAKE_START);
      await database.db.insert(marketStrategies).values(
        symbols.map((symbol, i) => ({
          userId: rows[i % USERS]!.id,
          name: `s${i}`,
          symbol,
          timeframe: '1m' as const,
          rule: { type: 'ema_cross' as const },
          positionSize: 100,
          takeProfitPct: 1,
          stopLossPct: 1,
          enabled: true,
        })),
      );
    } finally {
      await database.close();
    }

    // The restart.
    const main = await startMain(env);
    const startedAt = Date.now();
    let exitCode: number | null | undefined;
    main.child.once('exit', (code) => (exitCode = code));
    const healthy = async () => {
      if (exitCode !== undefined) throw new Error(`the server exited (${exitCode}):\n${main.output().slice(-2000)}`);
      return (await fetch(`${main.url}/healthz`)).status === 200;
    };

    await waitFor(async () => (await healthy()) && fake.subscriptions().length === SERIES, {
      what: `${SERIES} streams subscribed upstream`,
      timeoutMs: 60_000,
      progress: () => fake.subscriptions().length,
    });
    expect(fake.openConnections).toBe(2);

    // The window the old code crashed in: every check of it must find the process up and healthy.
    const until = Math.max(Date.now() + WATCH_AFTER_FOLLOWED_MS, startedAt + WATCH_AFTER_START_MS);
    let checks = 0;
    while (Date.now() < until) {
      expect(exitCode, main.output().slice(-2000)).toBeUndefined();
      expect((await fetch(`${main.url}/healthz`)).status).toBe(200);
      checks++;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(checks).toBeGreaterThan(10);
    expect(fake.subscriptions()).toHaveLength(SERIES);
    expect(fake.openConnections).toBe(2);
    // And the API answers: the first trader's strategies (every 13th of the 1,100).
    const { items } = await httpClient(main.url, token).market.strategies.list.query();
    expect(items.length).toBeGreaterThan(0);

    main.child.kill('SIGTERM');
    expect(await exited(main.child)).toBe(0);
  });
});
