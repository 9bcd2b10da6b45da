import { asc, eq } from 'drizzle-orm';
import { describe, expect, it, onTestFinished } from 'vitest';
import { discoveryScans } from '../../server/db/schema';
import { httpClient } from '../helpers/clients';
import { BUSES, startInstance, uniqueChannel, type Instance } from '../helpers/cluster';
import { createTestDatabase } from '../helpers/db';
import { startFakes } from '../helpers/discovery';
import { startVinted } from '../helpers/vault';
import { FakeBinance } from '../../server/demo/binance';
import { FAKE_START, eagerStrategy, untilViewersLive } from '../helpers/market';
import { wsClient } from '../helpers/clients';
import { waitFor } from '../helpers/wait';
import { skipResumePoint } from '../helpers/resume-point';

/**
 * Jobs that must run once in the cluster, with two real server processes on one Postgres: the
 * discovery auto-scan runs on the leader only (one scan per interval between the two), and when
 * the leader is killed the other instance takes over within seconds.
 */
const postgres = !!process.env.DATABASE_URL;

// One "second" of the discovery schedule is 100 ms here: a scan every 800 ms.
const TICK_MS = 100;
const INTERVAL_S = 8;
const INTERVAL_MS = TICK_MS * INTERVAL_S;

describe.skipIf(!postgres)(
  'singletons across two instances (skipped on PGlite: one embedded database is one process)',
  () => {
    describe.each(BUSES)('over $bus', ({ env }) => {
      it('runs one auto-discovery scan per interval between them, and the survivor takes over within 10 s of the leader dying', async () => {
        const database = await createTestDatabase();
        onTestFinished(() => database.close());
        const fakes = await startFakes({ dex: { initial: 4, newPerCall: 1 } });
        const common = {
          DATABASE_URL: database.url!,
          BUS_CHANNEL: uniqueChannel(),
          UPSTREAMS: 'live',
          ...fakes.env,
          AUTO_START_DISCOVERY: 'true',
          DISCOVERY_INTERVAL: String(INTERVAL_S),
          DISCOVERY_TICK_MS: String(TICK_MS),
          DISCOVERY_MAX_TOKENS: '2',
          CLUSTER_ELECTION_MS: '300',
          VAULT_AUTO_REFRESH_ENABLED: 'false',
          ADMIN_EMAILS: 'ops@example.com',
          ...env,
        };
        const [a, b]: [Instance, Instance] = await Promise.all([
          startInstance('a', common),
          startInstance('b', common),
        ]);
        const autoScans = () =>
          database.db
            .select()
            .from(discoveryScans)
            .where(eq(discoveryScans.triggeredBy, 'auto'))
            .orderBy(asc(discoveryScans.startedAt));

        await waitFor(async () => (await autoScans()).length >= 6, { what: 'six auto scans' });
        // Both instances run the schedule's timer; had both scanned, two scans would start within
        // moments of each other. One leader: each scan starts an interval after the one before.
        const gaps = (scans: Awaited<ReturnType<typeof autoScans>>) =>
          scans.slice(1).map((s, i) => s.startedAt.getTime() - scans[i]!.startedAt.getTime());
        const spaced = (scans: Awaited<ReturnType<typeof autoScans>>) =>
          gaps(scans).every((g) => g >= INTERVAL_MS * 0.9);
        const first = await autoScans();
        expect(spaced(first), `gaps between scan starts: ${gaps(first).join(', ')} ms`).toBe(true);

        // Who leads, as system.stats shows it; kill that process.
        const { token } = await httpClient(a.url).auth.signUp.mutate({
          email: 'ops@example.com',
          password: 'cluster password',
          name: 'Ops',
        });
        const stats = await httpClient(a.url, token).system.stats.query();
        const leaderId = stats.cluster.leaders['discovery-auto-scan'];
        expect(['a', 'b']).toContain(leaderId);
        expect(stats.cluster.instances.map((i) => i.id).sort()).toEqual(['a', 'b']);
        const [leader, survivor] = leaderId === 'a' ? [a, b] : [b, a];
        leader.child.kill('SIGKILL');
        await leader.exited;
        const killedAt = Date.now();

        const after = await waitFor(
          async () => {
            const scans = (await autoScans()).filter((s) => s.startedAt.getTime() > killedAt);
            return scans.length >= 2 ? scans : null;
          },
          { what: 'auto scans on the survivor' },
        );
        expect(after[0]!.startedAt.getTime() - killedAt).toBeLessThan(10_000);
        expect(spaced(after)).toBe(true);
        await waitFor(
          async () =>
            (await httpClient(survivor.url, token).system.stats.query()).cluster.leaders['discovery-auto-scan'] ===
            survivor.name,
          {
            what: 'system.stats to name the survivor as leader',
          },
        );
        // The same in /metrics (read from loopback).
        await waitFor(
          async () => (await (await fetch(`${survivor.url}/metrics`)).text()).includes('hubcast_cluster_instances 1'),
          { what: '/metrics to count one instance' },
        );
        const metrics = await (await fetch(`${survivor.url}/metrics`)).text();
        expect(metrics).toContain(
          `hubcast_cluster_leader{singleton="discovery-auto-scan",instance="${survivor.name}"} 1`,
        );
        expect(metrics).toMatch(/^# TYPE hubcast_bus_events_received_total counter$/m);
        expect(metrics).toMatch(/hubcast_bus_events_received_total \d+/);
      }, 180_000);
    });

    it.each(BUSES)(
      'sweeps the vault on one scheduler over $bus: each session refreshed once per interval, not once per instance',
      async ({ env }) => {
        const database = await createTestDatabase();
        onTestFinished(() => database.close());
        // Tokens live an hour and each run looks an hour and a minute ahead: every run refreshes every session.
        const vinted = await startVinted({ accessLifetimeSeconds: 3600 });
        const MINUTE_MS = 20;
        const PERIOD_MS = 60 * MINUTE_MS;
        const common = {
          DATABASE_URL: database.url!,
          BUS_CHANNEL: uniqueChannel(),
          UPSTREAMS: 'live',
          ...vinted.env,
          VAULT_AUTO_REFRESH_ENABLED: 'true',
          VAULT_REFRESH_INTERVAL_MINUTES: '60',
          VAULT_MINUTE_MS: String(MINUTE_MS),
          CLUSTER_ELECTION_MS: '300',
          ADMIN_EMAILS: 'vault-admin@example.com',
          ...env,
        };
        const [a, b]: [Instance, Instance] = await Promise.all([
          startInstance('a', common),
          startInstance('b', common),
        ]);
        const { token } = await httpClient(a.url).auth.signUp.mutate({
          email: 'vault-admin@example.com',
          password: 'cluster password',
          name: 'Admin',
        });
        const admin = httpClient(b.url, token);
        const ids: number[] = [];
        for (const label of ['one', 'two', 'three'])
          ids.push(
            (await admin.vault.saveSession.mutate({ provider: 'vinted', label, secrets: { cookie: vinted.signIn() } }))
              .id,
          );
        const scheduled = async (sessionId: number) =>
          (await admin.vault.attempts.query({ sessionId, limit: 100 }))
            .filter((t) => t.trigger === 'scheduler')
            .map((t) => t.at.getTime())
            .sort((x, y) => x - y);
        await waitFor(async () => (await Promise.all(ids.map(scheduled))).every((runs) => runs.length >= 4), {
          what: 'four scheduled refreshes of each session',
        });
        for (const id of ids) {
          const runs = await scheduled(id);
          const gaps = runs.slice(1).map((t, i) => t - runs[i]!);
          // Two schedulers would refresh a session twice per interval: right after each other.
          expect(
            gaps.every((g) => g >= PERIOD_MS * 0.8),
            `session ${id}: gaps ${gaps.join(', ')} ms`,
          ).toBe(true);
        }
        expect(vinted.counters.refreshRejected).toBe(0);
      },
      180_000,
    );

    it.each(BUSES)(
      'keeps one Binance connection per timeframe in the cluster over $bus; killing its holder moves it to the other within 10 s, with no candle missing and no trade made twice',
      async ({ env }) => {
        const database = await createTestDatabase();
        onTestFinished(() => database.close());
        const binance = await FakeBinance.start({ start: FAKE_START });
        onTestFinished(() => binance.close());
        const common = {
          DATABASE_URL: database.url!,
          BUS_CHANNEL: uniqueChannel(),
          UPSTREAMS: 'live',
          ...binance.env,
          MARKET_RECONNECT_MIN_MS: '20',
          MARKET_RECONNECT_MAX_MS: '200',
          MARKET_SYMBOL_GRACE_MS: '100',
          CLUSTER_ELECTION_MS: '300',
          VAULT_AUTO_REFRESH_ENABLED: 'false',
          ADMIN_EMAILS: 'market-admin@example.com',
          ...env,
        };
        const [a, b]: [Instance, Instance] = await Promise.all([
          startInstance('a', common),
          startInstance('b', common),
        ]);
        const { token } = await httpClient(a.url).auth.signUp.mutate({
          email: 'market-admin@example.com',
          password: 'cluster password',
          name: 'Admin',
        });
        // A viewer on each instance, same series.
        const viewers: (() => boolean)[] = [];
        const closedOn = (url: string) => {
          const closed: { id: number; openTime: number }[] = [];
          let live = false;
          viewers.push(() => live);
          wsClient(url, token).client.market.live.subscribe(
            { symbol: 'BTCUSDT', timeframe: '1m' },
            {
              onData: skipResumePoint((e) => {
                if (e.id === undefined) live = true;
                else closed.push({ id: Number(e.id), openTime: e.data.candle.openTime });
              }),
            },
          );
          return closed;
        };
        const onA = closedOn(a.url);
        const onB = closedOn(b.url);
        // A strategy that opens on nearly every closed candle (RSI under 98) and closes on a 0.01 % move:
        // two instances evaluating the same candle would open two positions from it.
        await httpClient(a.url, token).market.strategies.create.mutate(eagerStrategy('Eager'));
        await waitFor(() => binance.subscriptions().includes('btcusdt@kline_1m'), {
          what: 'the series carried upstream',
        });
        // The strategy alone makes the series carried: wait until both viewers are live on it too.
        await untilViewersLive(binance, viewers);
        for (let i = 0; i < 3; i++) {
          binance.advance(60_000);
          await waitFor(() => onA.length >= i + 1 && onB.length >= i + 1, { what: `closed candle ${i + 1} on both` });
        }
        // One connection for the cluster, not one per instance.
        expect(binance.openConnections).toBe(1);
        // The cluster's view comes from each instance's heartbeat: current within an election round.
        const stats = await waitFor(
          async () => {
            const st = await httpClient(a.url, token).system.stats.query();
            return st.cluster.upstreamConnectionsTotal === 1 ? st : null;
          },
          { what: 'system.stats to count one upstream connection in the cluster' },
        );
        const holder = stats.cluster.leaders['binance:1m'];
        const [dead, survivor, kept] = holder === 'a' ? [a, b, onB] : [b, a, onA];

        dead.child.kill('SIGKILL');
        await dead.exited;
        const killedAt = Date.now();
        const handoverAt = binance.now;
        // Candles keep closing at the exchange while nobody holds the connection.
        binance.advance(60_000);
        binance.advance(60_000);
        await waitFor(() => binance.openConnections === 1 && binance.subscriptions().includes('btcusdt@kline_1m'), {
          what: 'the survivor to connect',
          timeoutMs: 10_000,
        });
        expect(Date.now() - killedAt).toBeLessThan(10_000);
        binance.advance(60_000);
        const last = Math.floor(binance.now / 60_000) * 60_000 - 60_000;
        await waitFor(() => kept.at(-1)?.openTime === last, {
          what: `the survivor's viewer to reach the candle opening at ${new Date(last).toISOString()}`,
        });
        // Every minute from the first candle seen to the last, each once, in order: none lost in the handover.
        const times = kept.map((c) => c.openTime);
        const expected = Array.from({ length: (last - times[0]!) / 60_000 + 1 }, (_, i) => times[0]! + i * 60_000);
        expect(times).toEqual(expected);
        expect(binance.openConnections).toBe(1);
        await waitFor(
          async () =>
            (await httpClient(survivor.url, token).system.stats.query()).cluster.leaders['binance:1m'] ===
            survivor.name,
          { what: 'the survivor named as holder' },
        );

        // The strategy traded before and after the handover, and never twice from one candle.
        const trades = await waitFor(
          async () => {
            const { items } = await httpClient(survivor.url, token).market.trades.query({ limit: 100 });
            return items.some((t) => t.openedAt.getTime() > handoverAt) &&
              items.some((t) => t.openedAt.getTime() <= handoverAt)
              ? items
              : null;
          },
          { what: 'trades made by the strategy' },
        );
        const opened = trades.map((t) => t.openedAt.getTime());
        expect(new Set(opened).size).toBe(opened.length);
        const open = await httpClient(survivor.url, token).market.positions.query();
        expect(open.length).toBeLessThanOrEqual(1);
      },
      180_000,
    );
  },
);
