import type { inferProcedureInput } from '@trpc/server';
import { count } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { sessions, users } from '../../server/db/schema';
import type { AppRouter } from '../../server/router';
import { anonymousCaller, callerForToken, createTestApp, signUp, uniqueEmail } from '../helpers/app';
import { rejection } from '../helpers/errors';

const app = await createTestApp({ ADMIN_EMAILS: 'boss@example.com' });

describe('auth', () => {
  it('makes the first account admin, later ones users, and an ADMIN_EMAILS address signed up with a password (not verified) a user', async () => {
    const first = await signUp(app);
    const second = await signUp(app);
    const boss = await signUp(app, { email: 'Boss@Example.com' });
    expect(first.user.role).toBe('admin');
    expect(second.user.role).toBe('user');
    expect(boss.user).toMatchObject({ role: 'user', email: 'boss@example.com' });
  });

  it('signs in with the same password, whatever the e-mail case, and me() returns the user', async () => {
    const email = uniqueEmail('ada');
    const { user } = await signUp(app, { email, name: 'Ada', password: 'analytical engine' });
    const signedIn = await anonymousCaller(app).auth.signIn({
      email: email.toUpperCase(),
      password: 'analytical engine',
    });
    expect(signedIn.user).toEqual(user);
    const caller = await callerForToken(app, signedIn.token);
    expect(await caller.auth.me()).toEqual({ id: user.id, email, name: 'Ada', role: user.role });
  });

  it('refuses a wrong password with UNAUTHORIZED and the same message as an unknown e-mail', async () => {
    const email = uniqueEmail();
    await signUp(app, { email });
    const wrong = await rejection(anonymousCaller(app).auth.signIn({ email, password: 'not the password' }));
    const unknown = await rejection(anonymousCaller(app).auth.signIn({ email: uniqueEmail(), password: 'whatever1' }));
    expect(wrong.code).toBe('UNAUTHORIZED');
    expect(unknown.message).toBe(wrong.message);
  });

  it('answers bad sign-up input with BAD_REQUEST naming each field, and writes no row', async () => {
    const [before] = await app.db.select({ n: count() }).from(users);
    const input: inferProcedureInput<AppRouter['auth']['signUp']> = {
      email: 'not-an-email',
      password: 'abc',
      name: 'Eve',
    };
    const err = await rejection(anonymousCaller(app).auth.signUp(input));
    expect(err.code).toBe('BAD_REQUEST');
    const [after] = await app.db.select({ n: count() }).from(users);
    expect(after!.n).toBe(before!.n);
  });

  it('refuses a second account with the same e-mail as CONFLICT', async () => {
    const email = uniqueEmail();
    await signUp(app, { email });
    const err = await rejection(signUp(app, { email: email.toUpperCase() }));
    expect(err.code).toBe('CONFLICT');
  });

  it('signOut deletes the session, so the token stops working', async () => {
    const { token, caller } = await signUp(app);
    await caller.auth.signOut();
    expect(await (await callerForToken(app, token)).auth.me()).toBeNull();
    const err = await rejection((await callerForToken(app, token)).users.search({ query: 'a' }));
    expect(err.code).toBe('UNAUTHORIZED');
  });

  it('signOutEverywhere ends every session of that user only', async () => {
    const a = await signUp(app);
    const other = await signUp(app);
    const second = await anonymousCaller(app).auth.signIn({ email: a.user.email, password: 'correct horse battery' });
    await app.auth.signOutEverywhere(a.user.id);
    expect(await (await callerForToken(app, a.token)).auth.me()).toBeNull();
    expect(await (await callerForToken(app, second.token)).auth.me()).toBeNull();
    expect(await other.caller.auth.me()).toMatchObject({ id: other.user.id });
  });

  it('limits sign-in attempts per address with TOO_MANY_REQUESTS, whatever bearer token comes along', async () => {
    const email = uniqueEmail();
    await signUp(app, { email });
    // Three throwaway accounts used to each get a bucket of their own from one address.
    const throwaways = await Promise.all([signUp(app), signUp(app), signUp(app)]);
    const ip = '203.0.113.9';
    const guessers = await Promise.all(throwaways.map(({ token }) => callerForToken(app, token, ip)));
    // Malformed attempts count too (the limit is checked before the input) and hash nothing.
    for (let i = 0; i < 20; i++) {
      const err = await rejection(
        guessers[i % 3]!.auth.signIn({ email: `not-an-address-${i}`, password: `guess ${i}` }),
      );
      expect(err.code).toBe('BAD_REQUEST');
    }
    const blocked = await rejection(guessers[0]!.auth.signIn({ email, password: 'correct horse battery' }));
    expect(blocked.code).toBe('TOO_MANY_REQUESTS');
    expect(blocked.message).toMatch(/try again in \d+ s/);
    expect(
      (await rejection(anonymousCaller(app, ip).auth.signIn({ email, password: 'correct horse battery' }))).code,
    ).toBe('TOO_MANY_REQUESTS');
    // Another address is not affected.
    expect((await anonymousCaller(app).auth.signIn({ email, password: 'correct horse battery' })).user.email).toBe(
      email,
    );
  });

  it(
    'locks an account after five wrong passwords in a row, from any address, and only that account',
    { timeout: 90_000 },
    async () => {
      const email = uniqueEmail('target');
      const other = uniqueEmail('bystander');
      await Promise.all([signUp(app, { email }), signUp(app, { email: other })]);
      for (let i = 0; i < 5; i++)
        expect((await rejection(anonymousCaller(app).auth.signIn({ email, password: `wrong ${i}` }))).code).toBe(
          'UNAUTHORIZED',
        );
      // The sixth attempt is refused and starts the lock; then even the right password waits, from a fresh address.
      expect((await rejection(anonymousCaller(app).auth.signIn({ email, password: 'wrong again' }))).code).toBe(
        'TOO_MANY_REQUESTS',
      );
      const locked = await rejection(
        anonymousCaller(app).auth.signIn({ email: email.toUpperCase(), password: 'correct horse battery' }),
      );
      expect(locked.code).toBe('TOO_MANY_REQUESTS');
      expect(locked.message).toMatch(/Too many wrong passwords for this account: try again in \d+ s/);
      expect(
        (await anonymousCaller(app).auth.signIn({ email: other, password: 'correct horse battery' })).user.email,
      ).toBe(other);
    },
  );

  // Each wrong or right password costs a full scrypt hash: slow on a busy machine.
  it('a right password clears the count of wrong ones', { timeout: 90_000 }, async () => {
    const email = uniqueEmail();
    await signUp(app, { email });
    const attempt = (password: string) => anonymousCaller(app).auth.signIn({ email, password });
    // Four wrong and one right: the five free attempts.
    for (let i = 0; i < 4; i++) await rejection(attempt(`wrong ${i}`));
    await attempt('correct horse battery');
    // Uncleared, this would be the sixth attempt in a row and lock the account.
    expect((await rejection(attempt('wrong again'))).code).toBe('UNAUTHORIZED');
    expect((await attempt('correct horse battery')).user.email).toBe(email);
  });

  it('stores only the SHA-256 of the token, never the token', async () => {
    const { token } = await signUp(app);
    const rows = await app.db.select({ id: sessions.id }).from(sessions);
    expect(rows.some((r) => r.id === token)).toBe(false);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.id))).toBe(true);
  });

  it('rejects authed procedures without a session', async () => {
    const err = await rejection(anonymousCaller(app).users.search({ query: 'x' }));
    expect(err.code).toBe('UNAUTHORIZED');
    expect(await anonymousCaller(app).auth.me()).toBeNull();
  });
});

describe('users.search', () => {
  it('finds others by name, never the caller, without showing their e-mail, and needs a query', async () => {
    const me = await signUp(app, { name: 'Grace Searcher' });
    const other = await signUp(app, { name: 'Grace Hopper' });
    const found = await me.caller.users.search({ query: 'grace' });
    expect(found.map((u) => u.id)).toContain(other.user.id);
    expect(found.map((u) => u.id)).not.toContain(me.user.id);
    expect(found.every((u) => Object.keys(u).sort().join() === 'email,id,name')).toBe(true);
    expect(found.every((u) => u.email === null)).toBe(true);
    const err = await rejection(me.caller.users.search({ query: '  ' }));
    expect(err.code).toBe('BAD_REQUEST');
  });

  it('does not list e-mails for a part of an address, and shows one typed in full', async () => {
    const me = await signUp(app);
    const other = await signUp(app, { name: 'Hidden Person' });
    expect(await me.caller.users.search({ query: '@' })).toEqual([]);
    expect(await me.caller.users.search({ query: 'example.com' })).toEqual([]);
    expect(await me.caller.users.search({ query: other.user.email.toUpperCase() })).toEqual([
      { id: other.user.id, name: 'Hidden Person', email: other.user.email },
    ]);
  });

  it('treats % and _ literally', async () => {
    const me = await signUp(app);
    await signUp(app, { name: 'Percy' });
    expect(await me.caller.users.search({ query: '%' })).toEqual([]);
  });

  it('refuses control characters in any text field with BAD_REQUEST and a readable message', async () => {
    const me = await signUp(app);
    const search = await rejection(me.caller.users.search({ query: 'a\u0000b' }));
    expect(search.code).toBe('BAD_REQUEST');
    // createCaller skips the errorFormatter (it makes the sentence over HTTP): the issue carries it.
    expect(search.message).toContain('Searches cannot contain control characters or line breaks.');
    const name = await rejection(
      anonymousCaller(app).auth.signUp({ email: uniqueEmail(), password: 'long enough', name: 'Nul\u0000Name' }),
    );
    expect(name.code).toBe('BAD_REQUEST');
    expect(name.message).toContain('Names cannot contain control characters or line breaks.');
    const strategy = await rejection(
      me.caller.market.strategies.create({
        name: 'x\u0007',
        symbol: 'BTCUSDT',
        timeframe: '1m',
        rule: { type: 'ema_cross' },
        positionSize: 1,
        takeProfitPct: 1,
        stopLossPct: 1,
      }),
    );
    expect(strategy.code).toBe('BAD_REQUEST');
  });
});
