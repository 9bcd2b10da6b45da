import { afterAll, describe, expect, it } from 'vitest';
import { FakeBinance } from '../../server/demo/binance';
import { BINANCE_REST_POLICY, BinanceRest, UnknownSymbolError } from '../../server/modules/market/binance-rest';
import { upstreamPolicy } from '../../server/upstream/policy';
import { FAKE_START } from '../helpers/market';

const fake = await FakeBinance.start({ start: FAKE_START });
afterAll(() => fake.close());
const rest = new BinanceRest({
  baseUrl: fake.env.BINANCE_REST_URL,
  policy: upstreamPolicy({ NODE_ENV: 'test' }, BINANCE_REST_POLICY),
});
const latest = () => rest.closed('BTCUSDT', '1m', { from: null, to: null, latest: 5 });

/** REST klines go through the shared upstream helper and keep Binance's rate-limit rules. */
describe('Binance REST over the shared upstream helper', () => {
  it('sits out a 429 and a 418 that name a short Retry-After, then answers', async () => {
    const before = fake.counters.restRequests;
    fake.failRestNext(429, 1, { retryAfterSeconds: 0 });
    fake.failRestNext(418, 1, { retryAfterSeconds: 0 });
    expect(await latest()).toHaveLength(5);
    expect(fake.counters.restRequests - before).toBe(3);
  });

  it('gives up at once when a ban is longer than it will wait, naming the wait', async () => {
    const before = fake.counters.restRequests;
    fake.failRestNext(418, 1, { retryAfterSeconds: 120 });
    await expect(latest()).rejects.toThrow('Binance rate limit: retry after 120 s');
    expect(fake.counters.restRequests - before).toBe(1);
  });

  it('does not retry a symbol Binance does not know', async () => {
    const before = fake.counters.restRequests;
    await expect(rest.closed('NOPE', '1m', { from: null, to: null, latest: 5 })).rejects.toBeInstanceOf(
      UnknownSymbolError,
    );
    expect(fake.counters.restRequests - before).toBe(1);
  });
});
