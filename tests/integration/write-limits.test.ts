import { describe, expect, it } from 'vitest';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { httpClient } from '../helpers/clients';
import { startFakeBinance } from '../helpers/market';

// Issue 18 §3: addCard had no rate limit, so anyone built a 500-card collection in 10 requests.
// Enabling a strategy checks its symbol against the exchange's list, which the fake serves.
const binance = await startFakeBinance();
const app = await createTestApp(binance.env);
const server = await startTestServer(app);

const settle = (calls: Promise<unknown>[]) => Promise.allSettled(calls);
const refusals = (results: PromiseSettledResult<unknown>[]) =>
  results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason as { data?: { code?: string }; message: string });

describe('write limits per user, counted in one HTTP batch too', () => {
  it('card writes: 120 a minute, then TOO_MANY_REQUESTS in plain words', async () => {
    const { token, caller } = await signUp(app);
    const col = await caller.collections.create({ title: 'Limits' });
    const client = httpClient(server.url, token);
    // httpBatchLink puts calls made in one tick into one batch (at most 50 a request).
    const results: PromiseSettledResult<unknown>[] = [];
    for (let b = 0; b < 3; b++)
      results.push(
        ...(await settle(
          Array.from({ length: 50 }, (_, i) =>
            client.collections.addCard.mutate({ collectionId: col.id, front: `card ${b}-${i}` }),
          ),
        )),
      );
    const refused = refusals(results);
    expect(results.length - refused.length).toBe(120);
    expect(refused).toHaveLength(30);
    for (const r of refused) {
      expect(r.data?.code).toBe('TOO_MANY_REQUESTS');
      expect(r.message).toMatch(/^Too many requests: try again in \d+ s\.$/);
    }
    expect((await caller.collections.list()).items[0]!.cardCount).toBe(120);
  });

  it('strategy writes: 120 a minute, then TOO_MANY_REQUESTS', async () => {
    const { token, caller } = await signUp(app);
    const [strategy] = (await caller.market.strategies.list()).items;
    const client = httpClient(server.url, token);
    const results = [
      ...(await settle(
        Array.from({ length: 50 }, (_, i) =>
          client.market.strategies.setEnabled.mutate({ id: strategy!.id, enabled: i % 2 === 0 }),
        ),
      )),
      ...(await settle(
        Array.from({ length: 50 }, () => client.market.strategies.update.mutate({ id: strategy!.id, name: 'renamed' })),
      )),
      ...(await settle(
        Array.from({ length: 21 }, () => client.market.strategies.update.mutate({ id: strategy!.id, name: 'renamed' })),
      )),
    ];
    const refused = refusals(results);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.data?.code).toBe('TOO_MANY_REQUESTS');
  });
});
