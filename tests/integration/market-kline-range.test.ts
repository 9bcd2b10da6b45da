import { describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/app';
import { wsClient } from '../helpers/clients';
import { marketTestApp, quickUsers } from '../helpers/market';
import { waitFor } from '../helpers/wait';
import { skipResumePoint } from '../helpers/resume-point';

const { app, fake } = await marketTestApp();
const server = await startTestServer(app);
const MINUTE = 60_000;

describe('klines out of our columns range', () => {
  it('are refused when parsed: the valid closed candles around one are stored and delivered, and the server keeps serving', async () => {
    const [user] = await quickUsers(app, 1);
    const { client } = wsClient(server.url, user!.token);
    const closed = new Map<number, number>();
    let forming = 0;
    const sub = client.market.live.subscribe(
      { symbol: 'BTCUSDT', timeframe: '1m' },
      {
        onData: skipResumePoint(
          ({ data: e }) => void (e.closed ? closed.set(e.candle.openTime, e.candle.trades) : forming++),
        ),
      },
    );
    try {
      await waitFor(
        () => {
          fake.advance(0);
          return forming > 0;
        },
        { what: 'the viewer to be live', intervalMs: 100 },
      );
      // The minute now forming, announced closed with a trade count no integer column holds.
      const t = Math.floor(fake.now / MINUTE) * MINUTE;
      const k = fake.forming('BTCUSDT', '1m');
      const fields = {
        t,
        T: t + MINUTE - 1,
        s: 'BTCUSDT',
        i: '1m',
        o: String(k.open),
        h: String(k.high),
        l: String(k.low),
        c: String(k.close),
        v: String(k.volume),
        n: 2 ** 31,
        x: true,
      };
      fake.sendRaw(
        JSON.stringify({ stream: 'btcusdt@kline_1m', data: { e: 'kline', E: fake.now, s: 'BTCUSDT', k: fields } }),
      );
      fake.sendRaw(
        JSON.stringify({
          stream: 'btcusdt@kline_1m',
          data: { e: 'kline', E: fake.now, s: 'BTCUSDT', k: { ...fields, n: -1 } },
        }),
      );
      fake.sendRaw(
        JSON.stringify({
          stream: 'btcusdt@kline_1m',
          data: { e: 'kline', E: fake.now, s: 'BTCUSDT', k: { ...fields, v: '1e400' } },
        }),
      );
      fake.advance(2 * MINUTE);
      await waitFor(() => closed.has(t) && closed.has(t + MINUTE), {
        what: 'both valid closed candles delivered',
        timeoutMs: 15_000,
      });
      expect(closed.get(t)).toBe(fake.candle('BTCUSDT', '1m', t)!.trades);
      const stored = await app.market.store.latest('BTCUSDT', '1m', 5);
      const byOpen = new Map(stored.map((c) => [c.candle.openTime, c.candle]));
      expect(byOpen.get(t)?.trades).toBe(fake.candle('BTCUSDT', '1m', t)!.trades);
      expect(byOpen.get(t + MINUTE)?.trades).toBe(fake.candle('BTCUSDT', '1m', t + MINUTE)!.trades);
      expect(
        stored.every((c) => c.candle.trades < 2 ** 31 && c.candle.trades >= 0 && Number.isFinite(c.candle.volume)),
      ).toBe(true);
      expect((await app.market.candles('kline-range-test', 'BTCUSDT', '1m', 3)).candles.length).toBe(3);
    } finally {
      sub.unsubscribe();
    }
  }, 60_000);
});
