import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../server/transport/address';
import { createTestApp, startTestServer } from '../helpers/app';

const METRICS_TOKEN = 'metrics-token-for-the-test-0123';
// One proxy in front: the server sees every request from loopback, as behind nginx on the host.
const app = await createTestApp({ TRUST_PROXY: '1', METRICS_TOKEN });
const server = await startTestServer(app);

const signIn = (forwardedFor: string) =>
  fetch(`${server.url}/trpc/auth.signIn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-Forwarded-For': forwardedFor },
    // Bad input still counts against the limit (checked first) and costs no password hashing.
    body: JSON.stringify({ json: { email: 'not-an-address', password: 'a guess' } }),
  });

const request = (forwardedFor: string | undefined, remoteAddress: string) =>
  ({
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
    socket: { remoteAddress },
  }) as unknown as IncomingMessage;

describe('client address behind proxies', () => {
  it('takes the right-most hop the proxies did not add, and ignores the header without TRUST_PROXY', () => {
    expect(clientAddress(request('203.0.113.7', '127.0.0.1'), 1)).toBe('203.0.113.7');
    // A client that writes its own X-Forwarded-For only adds entries on the left.
    expect(clientAddress(request('6.6.6.6, 203.0.113.7', '127.0.0.1'), 1)).toBe('203.0.113.7');
    expect(clientAddress(request('6.6.6.6, 203.0.113.7, 10.0.0.2', '127.0.0.1'), 2)).toBe('203.0.113.7');
    expect(clientAddress(request('203.0.113.7', '127.0.0.1'), 0)).toBe('127.0.0.1');
    expect(clientAddress(request(undefined, '127.0.0.1'), 1)).toBe('127.0.0.1');
  });

  it('gives each forwarded client its own sign-in bucket, whatever it puts on the left', async () => {
    for (let i = 0; i < 20; i++) expect((await signIn(`6.6.6.${i}, 203.0.113.20`)).status).toBe(400);
    expect((await signIn('203.0.113.20')).status).toBe(429);
    expect((await signIn('203.0.113.21')).status).toBe(400);
  });
});

describe('/metrics', () => {
  const metrics = (headers: Record<string, string>) => fetch(`${server.url}/metrics`, { headers });

  it('is served to loopback and to holders of METRICS_TOKEN only', async () => {
    expect((await metrics({})).status).toBe(200);
    expect((await metrics({ 'X-Forwarded-For': '203.0.113.30' })).status).toBe(403);
    expect(
      (await metrics({ 'X-Forwarded-For': '203.0.113.30', Authorization: 'Bearer wrong-token-of-some-length' })).status,
    ).toBe(403);
    const allowed = await metrics({ 'X-Forwarded-For': '203.0.113.30', Authorization: `Bearer ${METRICS_TOKEN}` });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('# TYPE hubcast_ws_connections gauge');
  });
});
