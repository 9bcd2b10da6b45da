import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { generateShareCode } from '../../server/modules/collections/share-codes';
import { anonymousCaller, createTestApp, signUp, startTestServer, uniqueEmail } from '../helpers/app';
import { converse } from '../helpers/chat';
import { rejection } from '../helpers/errors';
import { RawTrpcSocket } from '../helpers/raw-ws';
import { waitFor } from '../helpers/wait';

// Limits under concurrency: every attempt is counted before its work, so a burst, an HTTP batch
// or a WebSocket frame of many calls gets exactly the allowance, never "all of them checked".

const app = await createTestApp();
const server = await startTestServer(app);

const tally = (codes: (string | undefined)[]) =>
  codes.reduce<Record<string, number>>((t, c) => ({ ...t, [String(c)]: (t[String(c)] ?? 0) + 1 }), {});

describe('limits count every concurrent call', () => {
  it(
    '15 concurrent wrong passwords for one account: 5 are checked, the other 10 are refused as locked',
    { timeout: 60_000 },
    async () => {
      const email = uniqueEmail('target');
      await signUp(app, { email });
      // Each from an address of its own: only the per-account lockout applies.
      const errors = await Promise.all(
        Array.from({ length: 15 }, (_, i) =>
          rejection(anonymousCaller(app).auth.signIn({ email, password: `wrong ${i}` })),
        ),
      );
      expect(tally(errors.map((e) => e.code))).toEqual({ UNAUTHORIZED: 5, TOO_MANY_REQUESTS: 10 });
      for (const e of errors.filter((e) => e.code === 'TOO_MANY_REQUESTS'))
        expect(e.message).toMatch(/Too many wrong passwords for this account: try again in \d+ s/);
      // Locked: even the right password waits.
      expect(
        (await rejection(anonymousCaller(app).auth.signIn({ email, password: 'correct horse battery' }))).code,
      ).toBe('TOO_MANY_REQUESTS');
    },
  );

  it(
    'a right password among concurrent wrong ones is checked within the allowance and clears the count',
    { timeout: 60_000 },
    async () => {
      const email = uniqueEmail('owner');
      await signUp(app, { email });
      const attempt = (password: string) =>
        anonymousCaller(app)
          .auth.signIn({ email, password })
          .then(
            () => 'signed in',
            (e: { code?: string }) => e.code,
          );
      const answers = await Promise.all([attempt('wrong 1'), attempt('wrong 2'), attempt('correct horse battery')]);
      expect(tally(answers)).toEqual({ UNAUTHORIZED: 2, 'signed in': 1 });
    },
  );

  it('50 share-code redemptions in one HTTP batch: 30 are looked up, 20 refused', async () => {
    const guesser = await signUp(app);
    const codes = Array.from({ length: 50 }, () => generateShareCode());
    const body = JSON.stringify(Object.fromEntries(codes.map((code, i) => [String(i), { json: { code } }])));
    const res = await fetch(`${server.url}/trpc/${codes.map(() => 'collections.importByCode').join(',')}?batch=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', Authorization: `Bearer ${guesser.token}` },
      body,
    });
    const answers = (await res.json()) as { error?: { json: { data: { code: string } } } }[];
    expect(answers).toHaveLength(50);
    expect(tally(answers.map((a) => a.error?.json.data.code))).toEqual({ NOT_FOUND: 30, TOO_MANY_REQUESTS: 20 });
  });

  it('100 share-code redemptions in one WebSocket frame: 30 are looked up, 70 refused', async () => {
    const guesser = await signUp(app);
    const s = await RawTrpcSocket.open(server.url, guesser.token);
    s.send(
      Array.from({ length: 100 }, (_, i) => ({
        id: i + 1,
        method: 'mutation',
        params: { path: 'collections.importByCode', input: superjson.serialize({ code: generateShareCode() }) },
      })),
    );
    const answered = () => s.messages.filter((m) => m !== 'PING' && typeof m.id === 'number' && m.error !== undefined);
    await waitFor(() => answered().length === 100 || s.closeCode !== null, {
      what: 'an answer to each of the 100 calls',
    });
    expect(s.closeCode).toBeNull();
    const codes = answered().map((m) =>
      m !== 'PING' ? superjson.deserialize<{ data: { code: string } }>(m.error as never).data.code : undefined,
    );
    expect(tally(codes)).toEqual({ NOT_FOUND: 30, TOO_MANY_REQUESTS: 70 });
  });

  it('right codes do not use up the allowance for wrong ones', async () => {
    const owner = await signUp(app);
    const student = await signUp(app);
    const col = await owner.caller.collections.create({ title: 'Shared' });
    const { code } = await owner.caller.collections.createShareCode({ collectionId: col.id });
    // 40 imports of one right code (the copy is made once), then 30 wrong ones still answer NOT_FOUND.
    await Promise.all(Array.from({ length: 20 }, () => student.caller.collections.importByCode({ code })));
    await Promise.all(Array.from({ length: 20 }, () => student.caller.collections.importByCode({ code })));
    const wrong = await Promise.all(
      Array.from({ length: 31 }, () =>
        rejection(student.caller.collections.importByCode({ code: generateShareCode() })),
      ),
    );
    expect(tally(wrong.map((e) => e.code))).toEqual({ NOT_FOUND: 30, TOO_MANY_REQUESTS: 1 });
  });

  it('40 concurrent chat sends: 30 are stored, 10 refused; sends to a conversation not theirs count too', async () => {
    const [ann, bob, cat] = await Promise.all([signUp(app), signUp(app), signUp(app)]);
    const ab = await converse(ann, bob);
    const bc = await converse(bob, cat);
    // On Postgres the count rides in each send's transaction: concurrent ones must still see each other's.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        ann.caller.chat.send({ conversationId: i < 5 ? bc : ab, content: `#${i}` }).then(
          () => 'sent',
          (e: { code?: string }) => e.code,
        ),
      ),
    );
    const t = tally(answers);
    expect(t.TOO_MANY_REQUESTS).toBe(10);
    expect((t.sent ?? 0) + (t.NOT_FOUND ?? 0)).toBe(30);
    const stored = await bob.caller.chat.messages({ conversationId: ab, limit: 100 });
    expect(stored.items).toHaveLength(t.sent ?? 0);
  });
});
