import { TRPCError } from '@trpc/server';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { chatConversations, collections } from '../../server/db/schema';
import { appRouter } from '../../server/router';
import { authedProcedure, router } from '../../server/trpc';
import { createTestApp, startTestServer } from '../helpers/app';
import { httpClient } from '../helpers/clients';
import { describeFindings, fuzzProcedure, type FuzzTarget } from '../helpers/fuzz-check';
import { walkRouter } from '../helpers/router-walk';

// The fuzz of fuzz.test.ts must fail when a procedure is broken. This router (tests only) is
// appRouter plus six procedures with the bugs the fuzz exists to catch; the same checker,
// walking the merged router, must report each of them over both transports.

const plain = /^[A-Za-z ]{1,200}$/;
const brokenRouter = router({
  // Lets any text through its schema and fails on what the database would refuse: a 500.
  crashes: authedProcedure.input(z.object({ note: z.string() })).mutation(({ input }) => {
    if (!plain.test(input.note)) throw new Error('invalid byte sequence for encoding "UTF8": 0x00');
    return { ok: true };
  }),
  // Hands a database error's text to the client.
  leaks: authedProcedure.input(z.object({ id: z.number() })).query(({ input }) => {
    if (!Number.isSafeInteger(input.id) || input.id < 1)
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: `Failed query: select * from "things" where id = $1\nparams: ${input.id}`,
      });
    return null;
  }),
  // Refuses with tRPC's bare code instead of a sentence a person can act on.
  mute: authedProcedure.input(z.object({ name: z.string() })).query(({ input }) => {
    if (!plain.test(input.name)) throw new TRPCError({ code: 'BAD_REQUEST' });
    return input.name;
  }),
  // chat.conversations before shared/cursor.ts: digits only, no bound on the instant, so a
  // year-10000 cursor reaches Postgres as "+010000-…" and fails there (22009): a 500.
  unboundedPosition: authedProcedure
    .input(
      z.object({
        cursor: z
          .string()
          .regex(/^\d{1,15}:\d{1,18}$/, { error: 'cursor must be a nextCursor this list returned.' })
          .nullish(),
      }),
    )
    .query(async ({ ctx, input }) => {
      if (!input.cursor) return [];
      const [at, id] = input.cursor.split(':').map(Number);
      return ctx.app.db
        .select({ id: chatConversations.id })
        .from(chatConversations)
        .where(
          sql`${chatConversations.lastActivityAt} < ${new Date(at!).toISOString()}::timestamptz and ${chatConversations.id} < ${id!}`,
        );
    }),
  // An id cursor checked only for sign (zod 4's int() would already stop at the safe range):
  // 1.5, 2^63 or 1e308 reach the bigint comparison and fail there (22P02, 22003): a 500.
  unboundedId: authedProcedure.input(z.object({ cursor: z.number().positive().nullish() })).query(({ ctx, input }) =>
    ctx.app.db
      .select({ id: collections.id })
      .from(collections)
      .where(sql`${collections.id} < ${input.cursor ?? 1}`),
  ),
  // Writes before its input is checked, so refused input still changes a row.
  writesFirst: authedProcedure
    .use(async ({ ctx, next }) => {
      await ctx.app.db.insert(collections).values({ userId: ctx.user.id, title: 'written before the input check' });
      return next();
    })
    .input(z.object({ count: z.number().int().min(1).max(10) }))
    .mutation(({ input }) => input.count),
});
const merged = router({ ...appRouter._def.record, broken: brokenRouter });

const app = await createTestApp({ WS_MAX_CALLS_PER_SECOND: '100000' });
const server = await startTestServer(app, { router: merged });
const admin = await httpClient(server.url).auth.signUp.mutate({
  email: 'breaker@example.com',
  password: 'break the router',
  name: 'Breaker',
});
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
// Enough cases that a hostile value reaches each broken field for certain (about 1 case in 20
// does, so 400 miss with odds near 1e-9);
// the checker stops at the first finding, so a detected bug costs only a few.
const target: FuzzTarget = { app, url: server.url, token: admin.token, runs: 400, seed: SEED };
const walked = walkRouter(merged);

const EXPECTED: Record<string, RegExp> = {
  'broken.crashes': /answered INTERNAL_SERVER_ERROR/,
  'broken.leaks': /the answer leaks/,
  'broken.mute': /the error message is not a sentence: "BAD_REQUEST"/,
  'broken.writesFirst': /rows changed in "public"\."collections": \d+ → \d+/,
  'broken.unboundedPosition': /answered INTERNAL_SERVER_ERROR/,
  'broken.unboundedId': /answered INTERNAL_SERVER_ERROR/,
};

describe(`the router fuzz on deliberately broken procedures (seed ${SEED})`, () => {
  it('walks the broken procedures as part of the router, without being told about them', () => {
    expect(walked.map((p) => p.path)).toEqual(expect.arrayContaining([...Object.keys(EXPECTED), 'collections.get']));
  });

  for (const [path, problem] of Object.entries(EXPECTED)) {
    it(`reports ${path} over HTTP and over the WebSocket`, { timeout: 120_000 }, async () => {
      const { findings } = await fuzzProcedure(
        target,
        walked.find((p) => p.path === path)!,
      );
      expect(
        findings.map((f) => f.transport),
        describeFindings(findings),
      ).toEqual(['http', 'ws']);
      for (const f of findings) {
        expect(f.problem).toMatch(problem);
        // A finding says how to replay it.
        expect(f.replay).toMatch(/^FUZZ_SEED=\d+|^any FUZZ_SEED \(boundary case/);
        if (process.env.FUZZ_VERBOSE) console.log(path, f.transport, f.replay);
      }
    });
  }

  it('reports nothing for a sound procedure of the same merged router', { timeout: 120_000 }, async () => {
    const { findings } = await fuzzProcedure(
      { ...target, runs: 12 },
      walked.find((p) => p.path === 'collections.get')!,
    );
    expect(findings, describeFindings(findings)).toEqual([]);
  });
});
