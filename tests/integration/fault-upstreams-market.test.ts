import { afterEach, describe, expect, it } from 'vitest';
import { FakeBinance } from '../../server/demo/binance';
import type { Fault } from '../../server/demo/serve';
import type { LiveEvent } from '../../shared/market';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { wsClient } from '../helpers/clients';
import { rejection } from '../helpers/errors';
import { FAKE_START } from '../helpers/market';
import { expectPlain, expectServing, FAULTS, strictLog, TIMEOUT_MS } from '../helpers/upstream-faults';
import { waitFor } from '../helpers/wait';
import { skipResumePoint } from '../helpers/resume-point';

// Binance's REST klines and its kline WebSocket put down, slow and garbage in turn: market keeps
// answering (SERVICE_UNAVAILABLE with a plain message, the feed's state in market.stats), stores
// no candle from a bad answer, and candles flow again, gap filled, once the exchange is healthy.

const STEP = 60_000;
// Pings every 400 ms keep a healthy stream from looking idle (MARKET_WS_IDLE_MS), and their pongs
// stay under the 5 messages a second Binance allows; a stalled exchange sends no pings at all.
const fake = await FakeBinance.start({ start: FAKE_START, pingIntervalMs: 400 });
afterEach(() => {
  fake.faultRest(null);
  fake.slowStreams(0);
  fake.restore();
});
const log = strictLog();
const app = await createTestApp(
  {
    ...fake.env,
    UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
    MARKET_WS_IDLE_MS: '1500',
    MARKET_SYMBOL_GRACE_MS: '100',
    MARKET_RECONNECT_MIN_MS: '20',
    MARKET_RECONNECT_MAX_MS: '200',
    MARKET_HISTORY_CANDLES: '50',
  },
  { log: log.log },
);
const server = await startTestServer(app);
const { caller: admin, token } = await signUp(app, { name: 'Admin' });

/** Every stored candle of the series: finite numbers, one per minute, no hole. */
async function expectWholeHistory(symbol: string) {
  const candles = (await app.market.store.latest(symbol, '1m', 1000)).map((c) => c.candle);
  expect(candles.length).toBeGreaterThan(0);
  for (const c of candles)
    for (const v of [c.open, c.high, c.low, c.close, c.volume]) expect(Number.isFinite(v)).toBe(true);
  const gaps = candles.slice(1).filter((c, i) => c.openTime - candles[i]!.openTime !== STEP);
  expect(gaps).toEqual([]);
  return candles;
}

// One viewer for the whole file, live before any fault (opened outside any test, so it outlives
// each): the feed keeps the series watched through every fault.
const symbol = 'BTCUSDT';
const received: LiveEvent[] = [];
const viewerErrors: unknown[] = [];
const { client } = wsClient(server.url, token);
client.market.live.subscribe(
  { symbol, timeframe: '1m' },
  { onData: skipResumePoint(({ data }) => void received.push(data)), onError: (err) => void viewerErrors.push(err) },
);
await waitFor(
  () => {
    if (received.length) return true;
    fake.advance(0);
    return false;
  },
  { what: 'the viewer to receive a forming candle', intervalMs: 100 },
);

describe('Binance REST klines misbehaving', () => {
  const rowsOfNonsense: Fault = {
    kind: 'garbage',
    body: JSON.stringify([[FAKE_START, 'abc', '1', '1', 'NaN', '', FAKE_START - 1, '0', 'x']]),
  };
  const cases: Array<[string, Fault]> = [...FAULTS, ['garbage (kline rows with non-numbers)', rowsOfNonsense]];
  const symbols = ['ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT', 'ADAUSDT'];

  it.each(cases.map(([name, fault], i) => [name, fault, symbols[i]!] as const))(
    '%s: candles answers SERVICE_UNAVAILABLE with a plain message, stores nothing, and works once the exchange does',
    async (_name, fault, symbol) => {
      fake.faultRest(fault);
      const err = await rejection(admin.market.candles({ symbol, timeframe: '1m', limit: 20 }));
      expect(err.code).toBe('SERVICE_UNAVAILABLE');
      expectPlain(err.message);
      expect(await app.market.store.latest(symbol, '1m', 10)).toEqual([]);
      await expectServing(admin);

      fake.faultRest(null);
      const { candles } = await admin.market.candles({ symbol, timeframe: '1m', limit: 20 });
      expect(candles).toHaveLength(20);
      await expectWholeHistory(symbol);
      log.expectNoErrors();
    },
  );
});

describe('the Binance kline WebSocket misbehaving', () => {
  const closedSeen = () => received.filter((e) => e.closed).length;
  const feedState = async () => (await admin.market.stats()).timeframes.find((t) => t.timeframe === '1m');

  /** Candles close on the exchange until the viewer gets a new closed one; then history must be whole. */
  async function expectFlowing() {
    const seen = closedSeen();
    await waitFor(
      () => {
        if (closedSeen() > seen) return true;
        fake.advance(STEP);
        return false;
      },
      { what: 'closed candles to reach the viewer again', intervalMs: 200 },
    );
    await app.market.settled(symbol, '1m');
    await expectWholeHistory(symbol);
    expect((await feedState())?.connections).toBe(1);
    // The viewer's subscription lived through the fault: it never saw an error.
    expect(viewerErrors).toEqual([]);
    log.expectNoErrors();
  }

  it('down (connections dropped, upgrades refused with 503): market.stats shows no connection, and after recovery the missed candles are filled in', async () => {
    await expectFlowing();
    fake.outage();
    await waitFor(async () => (await feedState())?.connections === 0, { what: 'market.stats to show the feed down' });
    expect((await admin.market.stats()).sharedWebSockets).toBe(0);
    await expectServing(admin);
    // Candles close while nobody can hear them: the reconnect's backfill must fetch them.
    fake.advance(5 * STEP);

    fake.restore();
    await expectFlowing();
  });

  it('slow (the exchange falls silent, handshakes answered after the timeout): the stream is restarted, shows down, and recovers', async () => {
    const opened = fake.counters.connectionsOpened;
    fake.slowStreams(TIMEOUT_MS * 8);
    await waitFor(async () => (await feedState())?.connections === 0, { what: 'the silent stream to be restarted' });
    await expectServing(admin);
    fake.advance(3 * STEP);

    fake.slowStreams(0);
    await expectFlowing();
    expect(fake.counters.connectionsOpened).toBeGreaterThan(opened);
  });

  it('garbage (text frames and kline messages with missing or wrong fields): nothing is stored or pushed from them, and real candles keep flowing', async () => {
    await expectFlowing();
    await app.market.settled(symbol, '1m');
    const before = await app.market.store.latest(symbol, '1m', 1000);
    const next = Math.floor(fake.now / STEP) * STEP + STEP;
    // A closed candle of the coming minute, as Binance sends it; each frame below breaks one field.
    const k = {
      t: next,
      T: next + STEP - 1,
      s: symbol,
      i: '1m',
      f: 0,
      L: 1,
      o: '100',
      c: '101',
      h: '102',
      l: '99',
      v: '5',
      n: 2,
      x: true,
      q: '500',
      V: '0',
      Q: '0',
      B: '0',
    };
    const frame = (kline: unknown) =>
      JSON.stringify({ stream: 'btcusdt@kline_1m', data: { e: 'kline', E: fake.now, s: symbol, k: kline } });
    const garbage = [
      'not json {',
      'null',
      '42',
      '"text"',
      '[]',
      JSON.stringify({ stream: 'btcusdt@kline_1m', data: 'oops' }),
      JSON.stringify({ stream: 'btcusdt@kline_1m', data: null }),
      JSON.stringify({ stream: 'btcusdt@kline_1m' }),
      frame(null),
      frame('k'),
      frame({ ...k, s: undefined }),
      frame({ ...k, s: 42 }),
      frame({ ...k, i: undefined }),
      frame({ ...k, t: 'yesterday' }),
      frame({ ...k, T: next - 1 }),
      frame({ ...k, o: 'abc' }),
      frame({ ...k, c: 'NaN' }),
      frame({ ...k, h: '' }),
      frame({ ...k, l: null }),
      frame({ ...k, v: '-5' }),
      frame({ ...k, n: -1 }),
      frame({ ...k, x: 'true' }),
      frame({ ...k, x: undefined }),
      frame({ ...k, x: false, c: 'Infinity' }),
    ];
    const events = received.length;
    for (const text of garbage) fake.sendRaw(text);
    // Frames on one socket arrive in order: once this forming update is through, so is the garbage.
    await waitFor(
      () => {
        if (received.length > events) return true;
        fake.advance(0);
        return false;
      },
      { what: 'a real update after the garbage', intervalMs: 100 },
    );
    await app.market.settled(symbol, '1m');
    expect(await app.market.store.latest(symbol, '1m', 1000)).toEqual(before);
    for (const e of received.slice(events)) {
      expect(e.symbol).toBe(symbol);
      for (const v of [e.candle.open, e.candle.high, e.candle.low, e.candle.close, e.candle.volume])
        expect(Number.isFinite(v)).toBe(true);
    }
    expect((await feedState())?.connections).toBe(1);
    await expectServing(admin);

    await expectFlowing();
    // The coming minute is stored as the exchange closed it, not as the garbage claimed.
    const stored = (await app.market.store.latest(symbol, '1m', 1000)).find((c) => c.candle.openTime === next);
    if (stored) expect(stored.candle.close).toBe(fake.candle(symbol, '1m', next)!.close);
  });
});
