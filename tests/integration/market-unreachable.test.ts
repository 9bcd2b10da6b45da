import { describe, expect, it } from 'vitest';
import { createTestApp, signUp } from '../helpers/app';
import { rejection } from '../helpers/errors';
import { closedPort } from '../helpers/ports';

describe('market with the exchange unreachable', () => {
  it('answers a typed, retryable SERVICE_UNAVAILABLE for candles, not an internal error', async () => {
    const port = await closedPort();
    const app = await createTestApp({
      UPSTREAMS: 'live',
      BINANCE_REST_URL: `http://127.0.0.1:${port}`,
      BINANCE_WS_URL: `ws://127.0.0.1:${port}`,
    });
    const { caller } = await signUp(app);
    const err = await rejection(caller.market.candles({ symbol: 'BTCUSDT', timeframe: '1h' }));
    expect(err.code).toBe('SERVICE_UNAVAILABLE');
    expect(err.message).toMatch(/exchange did not answer/);
  }, 90_000);
});
