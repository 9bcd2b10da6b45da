import { describe, expect, it } from 'vitest';
import type { Notification } from '../../shared/system';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { httpClient, wsClient } from '../helpers/clients';
import { skipResumePoint } from '../helpers/resume-point';
import { deliver as deliverItems } from '../helpers/inbox';

const app = await createTestApp();
const server = await startTestServer(app);

type Received = { id: string; data: Notification };

/** Collects a subscription's events as a client sees them (tracked: { id, data }). */
function collect() {
  const events: Received[] = [];
  const errors: unknown[] = [];
  return {
    events,
    errors,
    onData: skipResumePoint((e: Received) => void events.push(e)),
    onError: (e: unknown) => void errors.push(e),
  };
}

const openSubscriptions = () => app.stats.subscriptionsByPath()['system.notifications'] ?? 0;

/** Starts a subscription and waits until the server has it open (so no live event is sent before it). */
async function subscribed<T>(start: () => T): Promise<T> {
  const before = openSubscriptions();
  const sub = start();
  await expect.poll(openSubscriptions).toBe(before + 1);
  return sub;
}

const deliver = (userId: string, n: number, tag: string) =>
  deliverItems(
    app,
    Array.from({ length: n }, (_, i) => ({
      userId,
      feature: 'test',
      type: 'ping',
      payload: { message: `${tag}-${i}` },
    })),
  );

describe('system.notifications', () => {
  it("resumes after a reconnect with exactly the events missed, and only the caller's", async () => {
    const alice = await signUp(app);
    const bob = await signUp(app);
    const first = wsClient(server.url, alice.token);
    const seen = collect();
    const sub = await subscribed(() => first.client.system.notifications.subscribe(undefined, seen));

    await deliver(alice.user.id, 3, 'live');
    await expect.poll(() => seen.events.length).toBe(3);
    const lastEventId = seen.events.at(-1)!.id;

    // The client goes away; events keep coming for it (and for someone else).
    sub.unsubscribe();
    await first.ws.close();
    await deliver(alice.user.id, 4, 'missed');
    await deliver(bob.user.id, 2, 'not-yours');

    const second = wsClient(server.url, alice.token);
    const resumed = collect();
    second.client.system.notifications.subscribe({ lastEventId }, resumed);
    await expect.poll(() => resumed.events.length).toBe(4);
    await deliver(alice.user.id, 1, 'after');
    // A last event: a duplicate of anything earlier would arrive before it.
    await deliver(alice.user.id, 1, 'last');
    await expect.poll(() => resumed.events.length).toBeGreaterThanOrEqual(6);

    const messages = resumed.events.map((e) => (e.data.payload as { message: string }).message);
    expect(messages).toEqual(['missed-0', 'missed-1', 'missed-2', 'missed-3', 'after-0', 'last-0']);
    expect(new Set(resumed.events.map((e) => e.id)).size).toBe(6);
    expect(resumed.events.every((e) => Number(e.id) > Number(lastEventId))).toBe(true);
    expect(resumed.errors).toEqual([]);
  });

  it('resumes on its own when the server drops the connection (tRPC resends the last event id)', async () => {
    const carol = await signUp(app);
    const { client } = wsClient(server.url, carol.token);
    const seen = collect();
    await subscribed(() => client.system.notifications.subscribe(undefined, seen));
    await deliver(carol.user.id, 2, 'before');
    await expect.poll(() => seen.events.length).toBe(2);

    // Drop every socket from the server side, publish while the client is away.
    const connected = app.stats.connectionsTotal;
    server.dropConnections();
    await deliver(carol.user.id, 3, 'gap');
    await expect.poll(() => app.stats.connectionsTotal).toBeGreaterThan(connected);
    await expect.poll(() => seen.events.length).toBe(5);
    // A last event: a duplicate of anything earlier would arrive before it.
    await deliver(carol.user.id, 1, 'last');
    await expect.poll(() => seen.events.length).toBeGreaterThanOrEqual(6);
    expect(seen.events.map((e) => (e.data.payload as { message: string }).message)).toEqual([
      'before-0',
      'before-1',
      'gap-0',
      'gap-1',
      'gap-2',
      'last-0',
    ]);
  });

  it("ends a session's open subscriptions within a second of signing out", async () => {
    const dave = await signUp(app);
    const { client } = wsClient(server.url, dave.token);
    const seen = collect();
    await subscribed(() => client.system.notifications.subscribe(undefined, seen));

    const open = openSubscriptions();
    await httpClient(server.url, dave.token).auth.signOut.mutate();
    await expect.poll(() => seen.errors.length, { timeout: 1_000 }).toBe(1);
    expect((seen.errors[0] as { data?: { code?: string } }).data?.code).toBe('UNAUTHORIZED');
    await expect.poll(openSubscriptions).toBe(open - 1);
    await deliver(dave.user.id, 1, 'too-late');
    // A round trip on the same socket: an event pushed to the ended subscription would arrive first.
    await client.system.health.query();
    expect(seen.events).toEqual([]);
  });

  it('rejects a malformed lastEventId with BAD_REQUEST', async () => {
    const erin = await signUp(app);
    const { client } = wsClient(server.url, erin.token);
    const seen = collect();
    client.system.notifications.subscribe({ lastEventId: 'yesterday' }, seen);
    await expect.poll(() => seen.errors.length).toBe(1);
    expect((seen.errors[0] as { data?: { code?: string } }).data?.code).toBe('BAD_REQUEST');
  });
});
