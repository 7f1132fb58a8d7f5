import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start targets and VMs: keep files serial on a 2-core machine.
    fileParallelism: false,
    reporters: ['default'],
  },
});
