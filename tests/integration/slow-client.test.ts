import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import superjson from 'superjson';
import { createTestApp, signUp, startTestServer } from '../helpers/app';
import { wsClient } from '../helpers/clients';
import { deliver } from '../helpers/inbox';

// A small allowance so the test needs megabytes, not hundreds of them, to overflow it.
const app = await createTestApp({ WS_MAX_BUFFERED_BYTES: String(256 * 1024) });
const server = await startTestServer(app);

describe('a client that stops reading', () => {
  it('is disconnected once its unsent backlog passes the limit, while others keep receiving', async () => {
    const slow = await signUp(app);
    const fast = await signUp(app);

    // A raw client: subscribe, then stop reading from the socket altogether.
    const raw = new WebSocket(`${server.url.replace('http', 'ws')}/trpc?connectionParams=1`);
    await new Promise((r) => raw.once('open', r));
    raw.send(JSON.stringify({ method: 'connectionParams', data: { token: slow.token } }));
    raw.send(
      JSON.stringify({
        id: 1,
        method: 'subscription',
        params: { path: 'system.notifications', input: superjson.serialize(undefined) },
      }),
    );
    await expect.poll(() => app.stats.subscriptionsByPath()['system.notifications'] ?? 0).toBe(1);
    (raw as unknown as { _socket: { pause(): void } })._socket.pause();

    const { client } = wsClient(server.url, fast.token);
    let fastReceived = 0;
    client.system.notifications.subscribe(undefined, { onData: () => void fastReceived++ });
    await expect.poll(() => app.stats.subscriptionsByPath()['system.notifications'] ?? 0).toBe(2);

    // About 10 MB for the slow reader: more than loopback's socket buffers absorb.
    const blob = 'x'.repeat(16 * 1024);
    for (let sent = 0; sent < 640; sent += 20) {
      await deliver(
        app,
        Array.from({ length: 20 }, () => ({
          userId: slow.user.id,
          feature: 'test',
          type: 'big',
          payload: { blob },
        })).concat([{ userId: fast.user.id, feature: 'test', type: 'small', payload: { blob: '' } }]),
      );
    }
    await expect.poll(() => app.stats.slowClientDisconnects, { timeout: 10_000 }).toBe(1);
    // The server drops its end (close, then terminate when the peer still does not read).
    await expect.poll(() => app.stats.connections, { timeout: 10_000 }).toBe(1);
    raw.terminate();
    const before = fastReceived;
    await deliver(app, [{ userId: fast.user.id, feature: 'test', type: 'small', payload: { blob: '' } }]);
    await expect.poll(() => fastReceived).toBe(before + 1);
  }, 60_000);
});
