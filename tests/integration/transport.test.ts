import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestApp, startTestServer } from '../helpers/app';
import { httpClient, wsClient } from '../helpers/clients';
import { clientError } from '../helpers/errors';

const app = await createTestApp();
const server = await startTestServer(app);

/** Opens a raw WebSocket upgrade and reports how the server answered it. */
function upgrade(headers: Record<string, string>): Promise<{ opened: boolean; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/trpc`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve({ opened: true });
    });
    ws.once('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode }));
    ws.once('error', () => resolve({ opened: false }));
  });
}

describe('a Node script over HTTP and WebSocket', () => {
  it('signs up, then reads auth.me with the bearer token over HTTP and with connectionParams over WebSocket', async () => {
    const { user, token } = await httpClient(server.url).auth.signUp.mutate({
      email: 'script@example.com',
      password: 'long enough',
      name: 'Script',
    });
    expect(await httpClient(server.url, token).auth.me.query()).toEqual(user);
    expect(await wsClient(server.url, token).client.auth.me.query()).toEqual(user);
  });

  it('without a token: auth.me is null and an authed procedure is UNAUTHORIZED, on both transports', async () => {
    expect(await httpClient(server.url).auth.me.query()).toBeNull();
    expect((await clientError(httpClient(server.url).users.search.query({ query: 'a' }))).data?.code).toBe(
      'UNAUTHORIZED',
    );
    const { client } = wsClient(server.url);
    expect(await client.auth.me.query()).toBeNull();
    expect((await clientError(client.users.search.query({ query: 'a' }))).data?.code).toBe('UNAUTHORIZED');
  });

  it('a WebSocket opened before signing out elsewhere stops acting for that session', async () => {
    const { token } = await httpClient(server.url).auth.signUp.mutate({
      email: 'ws-stale@example.com',
      password: 'long enough',
      name: 'Stale',
    });
    const { client } = wsClient(server.url, token);
    expect(await client.auth.me.query()).toMatchObject({ email: 'ws-stale@example.com' });
    await httpClient(server.url, token).auth.signOut.mutate();
    expect(await client.auth.me.query()).toBeNull();
    expect((await clientError(client.users.search.query({ query: 'a' }))).data?.code).toBe('UNAUTHORIZED');
  });

  it('answers bad input with BAD_REQUEST, a readable message and field errors', async () => {
    const err = await clientError(
      httpClient(server.url).auth.signUp.mutate({ email: 'nope', password: 'abc', name: 'X' }),
    );
    expect(err.data?.code).toBe('BAD_REQUEST');
    expect(err.message).toContain('Enter a valid e-mail address');
    expect(err.message).toContain('Passwords need at least 8 characters');
    expect(err.data).not.toHaveProperty('stack', expect.anything());
  });
});

describe('origins', () => {
  it('refuses a WebSocket upgrade from a foreign Origin and accepts ours and scripts without one', async () => {
    expect(await upgrade({ Origin: 'https://evil.example' })).toEqual({ opened: false, status: 403 });
    expect(await upgrade({ Origin: server.url })).toEqual({ opened: true });
    expect(await upgrade({})).toEqual({ opened: true });
  });

  it('refuses cookie-authenticated mutations and sign-in sent from another site', async () => {
    const { token } = await httpClient(server.url).auth.signUp.mutate({
      email: 'cookie@example.com',
      password: 'long enough',
      name: 'C',
    });
    const post = (path: string, body: unknown, headers: Record<string, string>) =>
      fetch(`${server.url}/trpc/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ json: body }),
      });
    const cookie = { Cookie: `hubcast_session=${token}` };
    const foreign = await post('auth.signOut', undefined, { ...cookie, Origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await httpClient(server.url, token).auth.me.query()).not.toBeNull();
    const login = await post(
      'auth.signIn',
      { email: 'cookie@example.com', password: 'long enough' },
      { Origin: 'https://evil.example' },
    );
    expect(login.status).toBe(403);
    const own = await post('auth.signOut', undefined, { ...cookie, Origin: server.url });
    expect(own.status).toBe(200);
    expect(await httpClient(server.url, token).auth.me.query()).toBeNull();
  });

  it('sets an httpOnly SameSite=Lax session cookie on sign-in over HTTP', async () => {
    const res = await fetch(`${server.url}/trpc/auth.signUp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', Origin: server.url },
      body: JSON.stringify({ json: { email: 'browser@example.com', password: 'long enough', name: 'B' } }),
    });
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^hubcast_session=[a-z0-9]+;/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
  });
});

describe('operational endpoints', () => {
  it('serves /healthz, system.health, Prometheus /metrics and the built client', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, db: app.database.kind, upstreams: 'demo' });
    expect(await httpClient(server.url).system.health.query()).toMatchObject({ ok: true, upstreams: 'demo' });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('# TYPE hubcast_ws_connections gauge');
    expect(metrics).toContain('hubcast_process_resident_memory_bytes');
    const page = await fetch(`${server.url}/some/client/route`);
    expect(await page.text()).toContain('<div id="root"></div>');
  });

  it('system.stats is for admins and counts connections and subscriptions per path', async () => {
    const admin = (
      await httpClient(server.url).auth.signIn.mutate({ email: 'script@example.com', password: 'long enough' })
    ).token;
    const other = (
      await httpClient(server.url).auth.signUp.mutate({
        email: 'plain@example.com',
        password: 'long enough',
        name: 'P',
      })
    ).token;
    expect((await clientError(httpClient(server.url, other).system.stats.query())).data?.code).toBe('FORBIDDEN');

    const { client } = wsClient(server.url, other);
    const sub = client.system.notifications.subscribe(undefined, {});
    await expect
      .poll(
        async () => (await httpClient(server.url, admin).system.stats.query()).subscriptions['system.notifications'],
      )
      .toBe(1);
    const stats = await httpClient(server.url, admin).system.stats.query();
    expect(stats.connections).toBeGreaterThanOrEqual(1);
    // On Postgres the bus crosses instances (LISTEN/NOTIFY); embedded PGlite keeps it in memory.
    expect(stats.bus.kind).toBe(app.database.kind === 'postgres' ? 'postgres' : 'memory');
    sub.unsubscribe();
    await expect
      .poll(
        async () => (await httpClient(server.url, admin).system.stats.query()).subscriptions['system.notifications'],
      )
      .toBeUndefined();
  });
});
