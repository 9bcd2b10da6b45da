import { describe, expect, it } from 'vitest';
import { createTestApp, signUp, startTestServer } from '../helpers/app';

const app = await createTestApp({
  GOOGLE_CLIENT_ID: 'client-id.apps.googleusercontent.com',
  GOOGLE_CLIENT_SECRET: 'not-a-real-secret',
});
const server = await startTestServer(app);

describe('Google sign-in', () => {
  it('is advertised by system.health and starts an OpenID flow with state and PKCE', async () => {
    expect((await (await fetch(`${server.url}/healthz`)).json()).googleSignIn).toBe(true);
    const res = await fetch(`${server.url}/auth/google`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const target = new URL(res.headers.get('location')!);
    expect(target.origin).toBe('https://accounts.google.com');
    expect(target.searchParams.get('client_id')).toBe('client-id.apps.googleusercontent.com');
    expect(target.searchParams.get('redirect_uri')).toBe(`${server.url}/auth/google/callback`);
    expect(target.searchParams.get('code_challenge_method')).toBe('S256');
    const cookies = res.headers.getSetCookie();
    const state = cookies.find((c) => c.startsWith('google_oauth_state='));
    expect(state).toContain('HttpOnly');
    expect(state).toContain(`google_oauth_state=${target.searchParams.get('state')}`);
  });

  it('refuses a callback whose state does not match the cookie', async () => {
    const res = await fetch(`${server.url}/auth/google/callback?code=abc&state=forged`, {
      headers: { Cookie: 'google_oauth_state=real; google_code_verifier=v' },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('start again');
  });

  it('creates an account for a new Google identity, and links an existing e-mail instead of duplicating it', async () => {
    const fresh = await app.auth.signInWithGoogle({
      googleId: 'g-1',
      email: 'New.Person@Example.com',
      name: 'New Person',
      emailVerified: true,
    });
    expect(fresh.user).toMatchObject({ email: 'new.person@example.com', name: 'New Person' });
    const again = await app.auth.signInWithGoogle({
      googleId: 'g-1',
      email: 'new.person@example.com',
      name: 'Renamed',
      emailVerified: true,
    });
    expect(again.user.id).toBe(fresh.user.id);

    const existing = await signUp(app, { email: 'has-password@example.com' });
    const linked = await app.auth.signInWithGoogle({
      googleId: 'g-2',
      email: 'has-password@example.com',
      name: 'Whoever',
      emailVerified: true,
    });
    expect(linked.user.id).toBe(existing.user.id);
    expect((await app.auth.validate(linked.token)).user?.id).toBe(existing.user.id);
  });
});
