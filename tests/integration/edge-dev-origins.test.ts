import { describe, expect, it } from 'vitest';
import { createTestApp, startTestServer, uniqueEmail } from '../helpers/app';
import { httpClient } from '../helpers/clients';

// A page on the Vite dev server's port may use a cookie session only when the server runs
// under `npm run dev` (DEV_ORIGINS=true); `npm start` sets nothing, so such a page is foreign.

async function signOutFrom(origin: string, env: Record<string, string>) {
  const app = await createTestApp(env);
  const server = await startTestServer(app);
  const { token } = await httpClient(server.url).auth.signUp.mutate({
    email: uniqueEmail('origin'),
    password: 'long enough password',
    name: 'Origin Tester',
  });
  const res = await fetch(`${server.url}/trpc/auth.signOut`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', Cookie: `hubcast_session=${token}`, Origin: origin },
    body: '{}',
  });
  return { status: res.status, me: await httpClient(server.url, token).auth.me.query() };
}

describe('the Vite dev origins', () => {
  it('are refused for a cookie mutation by a server started as npm start starts it', async () => {
    for (const origin of ['http://127.0.0.1:5173', 'http://localhost:5173']) {
      const { status, me } = await signOutFrom(origin, {});
      expect(status, origin).toBe(403);
      expect(me, origin).not.toBeNull();
    }
  });

  it('are allowed with DEV_ORIGINS=true, as npm run dev sets it', async () => {
    const { status, me } = await signOutFrom('http://127.0.0.1:5173', { DEV_ORIGINS: 'true' });
    expect(status).toBe(200);
    expect(me).toBeNull();
  });
});
