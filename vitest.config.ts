import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Engine tests share one Docker daemon; files run in parallel but each names its own project.
    fileParallelism: true,
  },
});
