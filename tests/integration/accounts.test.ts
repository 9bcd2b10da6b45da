import { describe, expect, it } from 'vitest';
import { createTestApp, signUp, startTestServer, uniqueEmail } from '../helpers/app';
import { httpClient, wsClient } from '../helpers/clients';
import { clientError } from '../helpers/errors';
import { setRole } from '../../server/modules/auth/roles';

const ADMIN = 'operator@example.com';
const app = await createTestApp({
  ADMIN_EMAILS: `${ADMIN},boss@example.com`,
  GOOGLE_CLIENT_ID: 'client-id.apps.googleusercontent.com',
  GOOGLE_CLIENT_SECRET: 'not-a-real-secret',
});
const server = await startTestServer(app);
// The first account of a fresh install is admin whatever its address: take that seat first.
await signUp(app);

describe('admin from ADMIN_EMAILS needs a verified address', () => {
  it('a password sign-up with a listed address is an ordinary user', async () => {
    const { user } = await signUp(app, { email: ADMIN });
    expect(user.role).toBe('user');
  });

  it('a Google sign-in with a listed, verified address is admin; an unverified one is refused', async () => {
    await expect(
      app.auth.signInWithGoogle({
        googleId: 'g-boss-unverified',
        email: 'boss@example.com',
        name: 'Boss',
        emailVerified: false,
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const google = await app.auth.signInWithGoogle({
      googleId: 'g-boss',
      email: 'Boss@Example.com',
      name: 'Boss',
      emailVerified: true,
    });
    expect(google.user.role).toBe('admin');
  });
});

describe('a role change on a live WebSocket', () => {
  it('counts on the next call, without reconnecting', async () => {
    const email = uniqueEmail('promoted');
    const { token } = await signUp(app, { email });
    const { client } = wsClient(server.url, token);
    expect((await clientError(client.system.stats.query())).data?.code).toBe('FORBIDDEN');
    await setRole(app.database.db, email, 'admin');
    expect(await client.system.stats.query()).toHaveProperty('connections');
    await setRole(app.database.db, email, 'user');
    expect((await clientError(client.system.stats.query())).data?.code).toBe('UNAUTHORIZED');
  });
});

describe('Google sign-in into an e-mail someone registered with a password', () => {
  it("drops the squatter's password and ends its sessions, and the owner gets in through Google", async () => {
    const email = uniqueEmail('victim');
    const squatter = await signUp(app, { email, password: 'squatter password' });
    const { client } = wsClient(server.url, squatter.token);
    let ended: unknown = null;
    const sub = client.system.notifications.subscribe(undefined, { onError: (err) => (ended = err) });
    await expect.poll(() => client.auth.me.query()).toMatchObject({ email });

    const owner = await app.auth.signInWithGoogle({ googleId: 'g-victim', email, name: 'Owner', emailVerified: true });
    expect(owner.user.id).toBe(squatter.user.id);

    expect(await httpClient(server.url, squatter.token).auth.me.query()).toBeNull();
    await expect.poll(() => ended).toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    const refused = await clientError(
      httpClient(server.url).auth.signIn.mutate({ email, password: 'squatter password' }),
    );
    expect(refused.data?.code).toBe('UNAUTHORIZED');
    expect(await httpClient(server.url, owner.token).auth.me.query()).toMatchObject({ email });
    sub.unsubscribe();
  });
});

describe('Google callback', () => {
  it('clears the state and verifier cookies, also when it refuses', async () => {
    const res = await fetch(`${server.url}/auth/google/callback?code=abc&state=forged`, {
      headers: { Cookie: 'google_oauth_state=real; google_code_verifier=v' },
    });
    expect(res.status).toBe(400);
    const cookies = res.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith('google_oauth_state=;'))).toContain('Max-Age=0');
    expect(cookies.find((c) => c.startsWith('google_code_verifier=;'))).toContain('Max-Age=0');
  });
});

describe('ending a stolen session', () => {
  it("changePassword refuses a wrong current password, ends the other sessions (their subscriptions too) and keeps the caller's", async () => {
    const email = uniqueEmail('owner');
    const mine = await signUp(app, { email, password: 'first password' });
    const thief = await httpClient(server.url).auth.signIn.mutate({ email, password: 'first password' });
    const { client } = wsClient(server.url, thief.token);
    let ended: unknown = null;
    const sub = client.system.notifications.subscribe(undefined, { onError: (err) => (ended = err) });
    await expect.poll(() => client.auth.me.query()).toMatchObject({ email });
    const own = wsClient(server.url, mine.token).client;
    let ownEnded: unknown = null;
    const ownSub = own.system.notifications.subscribe(undefined, { onError: (err) => (ownEnded = err) });

    const wrong = await clientError(
      httpClient(server.url, mine.token).auth.changePassword.mutate({
        currentPassword: 'not it at all',
        newPassword: 'second password',
      }),
    );
    expect(wrong.data?.code).toBe('UNAUTHORIZED');
    expect(wrong.message).toBe('Your current password is wrong.');
    expect(await httpClient(server.url, thief.token).auth.me.query()).toMatchObject({ email });

    await httpClient(server.url, mine.token).auth.changePassword.mutate({
      currentPassword: 'first password',
      newPassword: 'second password',
    });
    expect(await httpClient(server.url, thief.token).auth.me.query()).toBeNull();
    expect((await clientError(httpClient(server.url, thief.token).users.search.query({ query: 'a' }))).data?.code).toBe(
      'UNAUTHORIZED',
    );
    await expect.poll(() => ended).toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    expect(await httpClient(server.url, mine.token).auth.me.query()).toMatchObject({ email });
    expect(await own.auth.me.query()).toMatchObject({ email });
    expect(ownEnded).toBeNull();

    expect(
      (await clientError(httpClient(server.url).auth.signIn.mutate({ email, password: 'first password' }))).data?.code,
    ).toBe('UNAUTHORIZED');
    expect((await httpClient(server.url).auth.signIn.mutate({ email, password: 'second password' })).user.email).toBe(
      email,
    );
    sub.unsubscribe();
    ownSub.unsubscribe();
  });

  it('signOutEverywhere ends every session of the user, this one included', async () => {
    const email = uniqueEmail('everywhere');
    const a = await signUp(app, { email, password: 'a good password' });
    const b = await httpClient(server.url).auth.signIn.mutate({ email, password: 'a good password' });
    const { client } = wsClient(server.url, b.token);
    let ended: unknown = null;
    const sub = client.system.notifications.subscribe(undefined, { onError: (err) => (ended = err) });
    await expect.poll(() => client.auth.me.query()).toMatchObject({ email });
    await httpClient(server.url, a.token).auth.signOutEverywhere.mutate();
    expect(await httpClient(server.url, a.token).auth.me.query()).toBeNull();
    expect(await httpClient(server.url, b.token).auth.me.query()).toBeNull();
    await expect.poll(() => ended).toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    sub.unsubscribe();
  });
});
