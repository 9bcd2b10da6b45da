import { lte } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { discoveryEvents } from '../../server/db/schema';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { scanFinished, startFakes, watchDiscovery } from '../helpers/discovery';

const fakes = await startFakes({ dex: { newPerCall: 4 } });
const { dex } = fakes;
const app = await createTestApp(fakes.env);
const server = await startTestServer(app);

async function scan() {
  const { caller } = await signUp(app);
  // The newest four are the freshly minted ones; unkeyed GoPlus allows ~30 look-ups a minute.
  const { scanId } = await caller.discovery.trigger({ maxTokens: 4 });
  await scanFinished(app, scanId);
  return {
    scanId,
    minted: dex.tokens
      .slice(-4)
      .map((t) => t.address)
      .sort(),
  };
}

describe('discovery.events is resumable', () => {
  it('a client that missed a scan gets exactly its new_token events on reconnect, then live ones once', async () => {
    const reader = await signUp(app);
    const first = await watchDiscovery(server.url, reader.token);
    const s1 = await scan();
    await first.until('scan_completed', s1.scanId);
    expect(
      first
        .of('new_token', s1.scanId)
        .map((e) => e.token.address)
        .sort(),
    ).toEqual(s1.minted);
    const lastEventId = first.lastId()!;
    first.close();

    const missed = await scan();

    const again = await watchDiscovery(server.url, reader.token, lastEventId);
    await again.until('scan_completed', missed.scanId);
    const replayed = again.of('new_token');
    expect(replayed.map((e) => e.token.address).sort()).toEqual(missed.minted);
    expect(replayed.every((e) => e.scanId === missed.scanId)).toBe(true);
    expect(again.of('scan_started').map((e) => e.scanId)).toEqual([missed.scanId]);
    // Everyone receives scan_started: it says a user started the scan, not which one.
    expect(again.of('scan_started')[0]!.triggeredBy).toBe('user');
    // Replayed tokens are whole tokens, dates included.
    expect(replayed[0]!.token.discoveredAt).toBeInstanceOf(Date);

    const live = await scan();
    await again.until('scan_completed', live.scanId);
    expect(
      again
        .of('new_token', live.scanId)
        .map((e) => e.token.address)
        .sort(),
    ).toEqual(live.minted);
    const ids = again.received.map((r) => Number(r.id));
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    expect(ids[0]).toBeGreaterThan(Number(lastEventId));
    again.close();
  });

  it('a client without lastEventId gets live events only', async () => {
    const reader = await signUp(app);
    const w = await watchDiscovery(server.url, reader.token);
    const s = await scan();
    await w.until('scan_completed', s.scanId);
    expect(new Set(w.received.map((r) => ('scanId' in r.data ? r.data.scanId : null)))).toEqual(new Set([s.scanId]));
    w.close();
  });

  it('a client resuming from before the kept events is told to reload, not given a silent gap', async () => {
    const reader = await signUp(app);
    await scan();
    const [first] = await app.discovery.store.replay(0, 1);
    // What the store's trim does once more than its capacity of events exist.
    await app.db.delete(discoveryEvents).where(lte(discoveryEvents.id, first!.id + 2));
    const stale = await reader.caller.discovery.events({ lastEventId: String(first!.id) });
    await expect(stale[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining('reload'),
    });
  });
});
