import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db';
import { httpClient } from '../helpers/clients';
import { startMain } from '../helpers/main-process';
import { createTestApp } from '../helpers/app';
import { capturedLog } from '../helpers/log';
import { waitFor } from '../helpers/wait';
import { topic } from '../../server/realtime/bus';

/** Sends `head` as the whole request on a raw socket and resolves with whatever comes back before the socket ends. */
function rawRequest(url: string, head: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => socket.write(head));
    let got = '';
    socket.on('data', (c) => (got += c.toString()));
    socket.on('error', () => resolve(got));
    socket.on('close', () => resolve(got));
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

describe('no request or socket callback can end the process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hubcast-guards-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('answers a request line and an upgrade whose URL does not parse with 400, and keeps serving', async () => {
    const database = process.env.DATABASE_URL ? await createTestDatabase() : null;
    if (database) afterAll(() => database.close());
    const server = await startMain(database?.url ? { DATABASE_URL: database.url } : { DATA_DIR: dataDir });
    let exitCode: number | null | undefined;
    server.child.once('exit', (code) => (exitCode = code));

    // `new URL('//[', base)` throws: it used to be called outside any try, in the request and upgrade listeners.
    const plain = await rawRequest(server.url, 'GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(plain).toMatch(/^HTTP\/1\.1 400/);
    const upgrade = await rawRequest(
      server.url,
      'GET //[ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    expect(upgrade).toMatch(/^HTTP\/1\.1 400/);

    expect(exitCode).toBeUndefined();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const { user } = await httpClient(server.url).auth.signUp.mutate({
      email: `guards-${Date.now()}@example.com`,
      password: 'still serving here',
      name: 'Still',
    });
    expect(user.name).toBe('Still');
    // A client's malformed request is not the server failing: no error line for it.
    expect(server.output()).not.toMatch(/"level":50/);
    server.child.kill('SIGTERM');
  }, 120_000);
});

describe('bus dispatch', () => {
  it('isolates a handler that throws or rejects: the others still get every event, and the failure is logged once', async () => {
    const { log, lines } = capturedLog('error');
    const app = await createTestApp({}, { log });
    const t = topic<{ n: number }>(`guards-test-${Date.now()}`);
    const got: number[] = [];
    const stops = [
      app.bus.subscribe(t, () => {
        throw new Error('handler broke');
      }),
      // An async handler: its rejection used to be left unhandled, which ends a Node process.
      app.bus.subscribe(t, async () => {
        throw new Error('async handler broke');
      }),
      app.bus.subscribe(t, ({ n }) => void got.push(n)),
    ];
    try {
      for (let n = 1; n <= 3; n++) app.bus.publish(t, { n });
      await waitFor(() => got.length === 3, { what: 'the healthy handler to get all three events' });
      await waitFor(() => lines.some((l) => l.includes('async handler broke')), { what: 'the rejection to be logged' });
      expect(got).toEqual([1, 2, 3]);
      // Three failures of each: one line each, the repeats counted instead of logged.
      expect(lines.filter((l) => l.includes('async handler broke'))).toHaveLength(1);
      expect(lines).toHaveLength(2);
      expect(lines.every((l) => l.includes('bus handler failed; still serving'))).toBe(true);
    } finally {
      for (const stop of stops) stop();
    }
  });
});
