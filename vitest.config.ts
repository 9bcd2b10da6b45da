import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/setup/global.ts'],
    setupFiles: ['tests/setup/each-file.ts'],
    pool: 'forks',
    // Each worker opens its own database; two cores, so two at a time.
    maxWorkers: 2,
    // Generous on purpose: on a busy machine (load 15+ on two cores) slow is not broken. Conditions
    // wait up to 45 s (tests/helpers/wait.ts, expect.poll below), inside these limits.
    testTimeout: 90_000,
    hookTimeout: 120_000,
    // expect.poll waits on a condition; a busy machine needs more than its 1 s default.
    expect: { poll: { timeout: 45_000 } },
    env: { NODE_ENV: 'test', LOG_LEVEL: 'silent' },
    // tRPC's inline snapshots (tests/conformance, ported as they are) print `Object {`, `Array [`.
    snapshotFormat: { printBasicPrototype: true },
  },
});
