import { afterAll, describe, expect, it } from 'vitest';
import { startDemoUpstreams } from '../../server/demo';
import { appRouter } from '../../server/router';
import { createTestApp, startTestServer } from '../helpers/app';
import { httpClient } from '../helpers/clients';
import { describeFindings, fuzzProcedure, type FuzzTarget } from '../helpers/fuzz-check';
import { boundaryCases } from '../helpers/fuzz-input';
import { walkRouter } from '../helpers/router-walk';

// Every procedure of the router, read from the router itself, sent hostile inputs generated
// from its own zod schema (tests/helpers/fuzz-input.ts) over HTTP and over a signed-in
// WebSocket. Refused input must be a clean client error with a sentence for a message and no
// row changed; nothing may answer 500 or leak SQL, stacks or tokens. Boundary values (cursors
// and numbers past every range, fuzz-input.ts BOUNDARY_*) go to every position on every run,
// whatever the seed. A failure prints the
// seed: FUZZ_SEED=<seed> npx vitest run tests/integration/fuzz.test.ts -t <procedure>; add
// FUZZ_DEBUG=<procedure> to print every case and answer, FUZZ_VERBOSE=1 for per-procedure tallies.

// A fixed seed by default, so CI is repeatable; FUZZ_SEED=random explores new cases.
const SEED =
  process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED ?? 20261122);
// Each case is a real request; the suite runs in CI twice (PGlite and Postgres).
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);

// Rate limits on calls per WebSocket would close the fuzzer's socket; they have tests of their own.
// Accepted input reaches the fake upstreams on loopback, never the real services.
const upstreams = await startDemoUpstreams();
afterAll(() => upstreams.close());
const app = await createTestApp({ ...upstreams.env, WS_MAX_CALLS_PER_SECOND: '100000' });
const server = await startTestServer(app);
// The first account is an administrator, so admin-only procedures reach their input check.
const admin = await httpClient(server.url).auth.signUp.mutate({
  email: 'fuzzer@example.com',
  password: 'fuzz the router',
  name: 'Fuzzer',
});
const target: FuzzTarget = { app, url: server.url, token: admin.token, runs: RUNS, seed: SEED };
const procedures = walkRouter(appRouter);

describe(`every procedure with generated hostile input (seed ${SEED})`, () => {
  it('covers the whole router, naming what has no input to fuzz', () => {
    const withInput = procedures.filter((p) => p.schema);
    const without = procedures.filter((p) => !p.schema && !p.problem).map((p) => p.path);
    // No input means nothing to generate: the envelope checks of edge-walk.test.ts cover those.
    expect(withInput.length + without.length + procedures.filter((p) => p.problem && !p.parser).length).toBe(
      procedures.length,
    );
    expect(withInput.length).toBeGreaterThan(30);
    expect(procedures.filter((p) => p.problem).map((p) => `${p.path}: ${p.problem}`)).toEqual([]);
  });

  for (const p of procedures.filter((p) => p.schema || p.problem)) {
    it(`${p.path} (${p.type})`, { timeout: 120_000 }, async () => {
      const { findings, tally } = await fuzzProcedure(target, p);
      if (process.env.FUZZ_VERBOSE) console.log(p.path, JSON.stringify(tally));
      expect(findings, `seed ${SEED}\n${describeFindings(findings)}`).toEqual([]);
      // Every case was sent (the random ones and the boundary values), and the schema refused
      // most of them (so the check had teeth).
      expect(tally.refused + tally.accepted).toBe((RUNS + (p.schema ? boundaryCases(p.schema).length : 0)) * 2);
      expect(tally.refused).toBeGreaterThan(0);
    });
  }
});
