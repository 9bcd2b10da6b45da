import { setImmediate as tick } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ClosedCandleEvent, FormingCandleEvent, LiveEvent, Timeframe } from '../../shared/market';
import { seriesTopic } from '../../server/modules/market/series';
import { topic } from '../../server/realtime/bus';
import { DISCOVERY_STREAM } from '../../server/modules/discovery/store';
import { encodeCounter } from '../../server/transport/frames';
import { wsCounters } from '../../server/transport/counters';
import { CLOSE_TOO_SLOW } from '../../server/http';
import { startTestServer } from '../helpers/app';
import { marketTestApp, quickUsers, until } from '../helpers/market';
import { RawTrpcSocket } from '../helpers/raw-ws';

// Small bounds so a paused reader crosses them with a few megabytes.
const { app } = await marketTestApp({
  WS_MAX_BUFFERED_BYTES: String(512 * 1024),
  WS_CONFLATE_BYTES: String(32 * 1024),
});
const server = await startTestServer(app);
const SYMBOL = 'BTCUSDT';
const HOUR = 3_600_000;

const indicators = {
  sma20: null,
  ema9: null,
  ema21: null,
  rsi14: null,
  macd: null,
} as unknown as LiveEvent['indicators'];
const candleAt = (openTime: number, close = 1) => ({
  openTime,
  closeTime: openTime + HOUR - 1,
  open: 1,
  high: 1,
  low: 1,
  close,
  volume: 1,
  trades: 1,
});

/** Stores `n` closed candles after everything stored for the series, the way SeriesHub does. */
async function storeCandles(tf: Timeframe, n: number) {
  const [last] = await app.market.store.latest(SYMBOL, tf, 1);
  const from = (last?.candle.openTime ?? Date.UTC(2030, 0, 1)) + HOUR;
  const stored = [];
  for (let i = 0; i < n; i += 500) {
    const items = Array.from({ length: Math.min(500, n - i) }, (_, k) => ({
      candle: candleAt(from + (i + k) * HOUR),
      indicators,
    }));
    stored.push(...(await app.market.store.insert(SYMBOL, tf, items)));
  }
  return stored;
}

async function subscribers(tf: Timeframe, n: number, lastEventId?: string, accounts?: { token: string }[]) {
  const before = server.fanout().sinks;
  const sockets = await Promise.all(
    (accounts ?? (await quickUsers(app, n))).map(async ({ token }) => {
      const s = await RawTrpcSocket.open(server.url, token);
      s.subscribe(1, 'market.live', { symbol: SYMBOL, timeframe: tf }, lastEventId);
      return s;
    }),
  );
  // Each has replayed and joined the series' fan-out.
  await until(() => server.fanout().sinks === before + n, 'every subscriber to join the fan-out', 20_000);
  return sockets;
}

describe('shared-topic fan-out', () => {
  // Each test's sockets close when it ends; the next one counts from an empty fan-out.
  beforeEach(() => until(() => server.fanout().sinks === 0, "the last test's subscribers to leave"));

  it('encodes a replay page once for the subscribers that resume from the same id together', async () => {
    const [from] = await storeCandles('4h', 1);
    const missed = await storeCandles('4h', 5);
    const before = encodeCounter.encodes;
    const sockets = await subscribers('4h', 20, String(from!.id));
    await until(() => sockets.every((s) => s.data(1).length >= 5), 'every subscriber to replay the five');
    for (const s of sockets)
      expect(s.data(1).map((e) => (e as { id?: string }).id)).toEqual(missed.map((c) => String(c.id)));
    // One page per read round (the reads of a storm share rounds): without sharing, 5 × 20.
    expect(encodeCounter.encodes - before).toBeLessThanOrEqual(50);
    for (const s of sockets) s.ws.terminate();
  });

  it('encodes each event once for all subscribers of a topic and sends each its own envelope', async () => {
    const sockets = await subscribers('1h', 20);
    const stored = await storeCandles('1h', 4);
    const before = encodeCounter.encodes;
    const writesBefore = wsCounters.fanoutWrites;
    const published = stored.map((c) => ({
      id: c.id,
      data: { symbol: SYMBOL, timeframe: '1h' as const, candle: c.candle, closed: true as const, indicators },
    }));
    const forming = {
      data: {
        symbol: SYMBOL,
        timeframe: '1h' as const,
        candle: candleAt(stored.at(-1)!.candle.openTime + HOUR, 2),
        closed: false as const,
        indicators,
      },
    };
    for (const e of [...published, forming]) app.bus.publish(seriesTopic(SYMBOL, '1h'), e);
    await until(() => sockets.every((s) => s.data(1).length >= 5), 'every subscriber to receive the five events');
    expect(encodeCounter.encodes - before).toBe(5);
    // Published in one task: the five go to each socket in one write.
    expect(wsCounters.fanoutWrites - writesBefore).toBe(20);
    for (const s of sockets) {
      expect(s.data(1)).toEqual([
        ...published.map((e) => ({ id: String(e.id), data: { id: String(e.id), data: e.data } })),
        { id: undefined, data: forming },
      ]);
    }
    for (const s of sockets) s.ws.terminate();
    await until(() => server.fanout().sinks === 0, 'the fan-out to empty');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of [
      'hubcast_ws_messages_sent_total',
      'hubcast_ws_bytes_sent_total',
      'hubcast_ws_fanout_events_total',
      'hubcast_ws_encodes_total',
      'hubcast_ws_fanout_writes_total',
      'hubcast_ws_slow_client_disconnects_total',
      'hubcast_event_loop_max_block_seconds',
    ]) {
      expect(metrics).toMatch(new RegExp(`^${name} \\d`, 'm'));
      // Counts that only grow are Counters, so rate() over a restart stays right.
      expect(metrics).toMatch(new RegExp(`^# TYPE ${name} ${name.endsWith('_total') ? 'counter' : 'gauge'}$`, 'm'));
    }
  });

  it('cuts a reader that stopped with the resume code while others keep receiving; it resumes without a gap', async () => {
    const [slow, fast] = await subscribers('1d', 2);
    slow!.pause();
    // ~10 MB for the paused reader: more than loopback's socket buffers absorb.
    const stored = await storeCandles('1d', 2500);
    const pad = 'x'.repeat(4096);
    for (let i = 0; i < stored.length; i++) {
      const c = stored[i]!;
      app.bus.publish(seriesTopic(SYMBOL, '1d'), {
        id: c.id,
        data: { symbol: SYMBOL, timeframe: '1d', candle: c.candle, closed: true, indicators, pad } as ClosedCandleEvent,
      });
      if (i % 50 === 0) await tick();
    }
    await until(() => app.stats.slowClientDisconnects === 1, 'the paused reader to be cut', 20_000);
    await until(() => fast!.data(1).length === stored.length, 'the reading client to receive every event', 20_000);
    slow!.resume();
    await until(() => slow!.closeCode !== null, 'the paused reader to see the close', 20_000);
    expect(slow!.closeCode).toBe(CLOSE_TOO_SLOW);
    const got = slow!.data(1).map((d) => Number(d.id));
    expect(got.length).toBeLessThan(stored.length);
    const lastId = got.at(-1)!;

    const [again] = await subscribers('1d', 1, String(lastId));
    const expected = stored.filter((c) => c.id > lastId).map((c) => String(c.id));
    await until(() => again!.data(1).length >= expected.length, 'the resumed reader to catch up', 20_000);
    expect(again!.data(1).map((d) => d.id)).toEqual(expected);
  }, 90_000);

  it('conflates forming updates for a reader that is behind: it gets the newest, never a stale backlog', async () => {
    const [reader] = await subscribers('4h', 1);
    reader!.pause();
    const pad = 'y'.repeat(4096);
    const openTime = Date.UTC(2031, 0, 1);
    const N = 1500;
    for (let i = 1; i <= N; i++) {
      app.bus.publish(seriesTopic(SYMBOL, '4h'), {
        data: {
          symbol: SYMBOL,
          timeframe: '4h',
          candle: candleAt(openTime, i),
          closed: false,
          indicators,
          pad,
        } as FormingCandleEvent,
      });
      if (i % 50 === 0) await tick();
    }
    reader!.resume();
    const closes = () => reader!.data(1).map((d) => (d.data as { data: LiveEvent }).data.candle.close);
    await until(() => closes().at(-1) === N, 'the newest forming update', 20_000);
    expect(closes().length).toBeLessThan(N);
    expect(closes()).toEqual([...closes()].sort((a, b) => a - b));
    expect(reader!.closeCode).toBeNull();
  }, 60_000);

  it('conflates for many subscriptions on one socket with one drain wait: each gets the newest, no listener-limit warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const base = server.fanout().sinks;
      const [account] = await quickUsers(app, 1);
      const s = await RawTrpcSocket.open(server.url, account!.token);
      const ids = Array.from({ length: 20 }, (_, i) => i + 1);
      for (const id of ids) s.subscribe(id, 'market.live', { symbol: SYMBOL, timeframe: '4h' });
      await until(() => server.fanout().sinks === base + ids.length, 'every subscription to join the fan-out');
      s.pause();
      const pad = 'z'.repeat(4096);
      const openTime = Date.UTC(2032, 0, 1);
      const N = 300;
      for (let i = 1; i <= N; i++) {
        app.bus.publish(seriesTopic(SYMBOL, '4h'), {
          data: {
            symbol: SYMBOL,
            timeframe: '4h',
            candle: candleAt(openTime, i),
            closed: false,
            indicators,
            pad,
          } as FormingCandleEvent,
        });
        if (i % 20 === 0) await tick();
      }
      s.resume();
      const newest = (id: number) => (s.data(id).at(-1)?.data as { data: LiveEvent } | undefined)?.data.candle.close;
      await until(
        () => ids.every((id) => newest(id) === N),
        'every subscription to get the newest forming update',
        20_000,
      );
      expect(s.closeCode).toBeNull();
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
      s.ws.terminate();
      await until(() => server.fanout().sinks === base, 'the fan-out to empty');
    } finally {
      process.off('warning', onWarning);
    }
  }, 60_000);

  it('ends a subscription that joined the fan-out when its session is signed out', async () => {
    const [account] = await quickUsers(app, 1);
    const base = server.fanout().sinks;
    const [s] = await subscribers('15m', 1, undefined, [account!]);
    await account!.caller.auth.signOut();
    await until(
      () => s!.messages.some((m) => m !== 'PING' && m.id === 1 && m.error),
      'the subscription to end with an error',
    );
    const err = s!.messages.find((m) => m !== 'PING' && m.id === 1 && m.error) as {
      error: { json: { data: { code: string } } };
    };
    expect(err.error.json.data.code).toBe('UNAUTHORIZED');
    await until(() => server.fanout().sinks === base, 'the fan-out to let it go');
  });

  it('lets a handed-over subscription go on subscription.stop: stopped is sent, sink and counts released', async () => {
    const base = server.fanout().sinks;
    const [s] = await subscribers('5m', 1);
    await until(() => (app.stats.subscriptionsByPath()['market.live'] ?? 0) >= 1, 'the subscription to be counted');
    const counted = app.stats.subscriptionsByPath()['market.live']!;
    s!.send({ id: 1, method: 'subscription.stop' });
    await until(
      () => s!.messages.some((m) => m !== 'PING' && m.id === 1 && m.result?.type === 'stopped'),
      'the stopped answer',
    );
    await until(() => server.fanout().sinks === base, 'the fan-out to let it go');
    await until(
      () => (app.stats.subscriptionsByPath()['market.live'] ?? 0) === counted - 1,
      'the subscription count to drop',
    );
    // Still usable: a new subscription on the same socket joins again.
    s!.subscribe(2, 'market.live', { symbol: SYMBOL, timeframe: '5m' });
    await until(() => server.fanout().sinks === base + 1, 'the new subscription to join');
    s!.ws.terminate();
    await until(() => server.fanout().sinks === base, 'the fan-out to empty');
  });

  it('serves discovery events through the fan-out too: one encoding per event, each subscriber its tracked id', async () => {
    const base = server.fanout().sinks;
    const sockets = await Promise.all(
      (await quickUsers(app, 5)).map(async ({ token }) => {
        const s = await RawTrpcSocket.open(server.url, token);
        s.subscribe(7, 'discovery.events', undefined);
        return s;
      }),
    );
    await until(() => server.fanout().sinks === base + 5, 'every discovery subscriber to join the fan-out');
    const before = encodeCounter.encodes;
    const events = [901, 902].map((id) => ({
      id,
      data: { id, type: 'scan_started', scanId: `scan-${id}`, createdAt: new Date(Date.UTC(2030, 0, 1)) },
    }));
    for (const e of events) app.bus.publish(topic<typeof e>(DISCOVERY_STREAM), e);
    await until(() => sockets.every((s) => s.data(7).length === 2), 'every subscriber to receive both events');
    expect(encodeCounter.encodes - before).toBe(2);
    for (const s of sockets)
      expect(s.data(7)).toEqual(events.map((e) => ({ id: String(e.id), data: { id: String(e.id), data: e.data } })));
    for (const s of sockets) s.ws.terminate();
    await until(() => server.fanout().sinks === base, 'the fan-out to empty');
  });
});
