import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The worker pool runs compiled code: rebuild dist/ when the sources are newer.
    globalSetup: ['test/helpers/build-dist.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real sockets on a 2-core machine: keep parallelism modest so timing-sensitive tests stay calm.
    maxWorkers: 2,
  },
});
