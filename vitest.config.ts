import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/setup/global.ts'],
    setupFiles: ['tests/setup/each-file.ts'],
    pool: 'forks',
    // Each worker opens its own database; two cores, so two at a time.
    maxWorkers: 2,
    testTimeout: 30_000,
    // expect.poll waits on a condition; a busy machine needs more than its 1 s default.
    expect: { poll: { timeout: 20_000 } },
    hookTimeout: 60_000,
    env: { NODE_ENV: 'test', LOG_LEVEL: 'silent' },
  },
});
