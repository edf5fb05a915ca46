import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every supertest reply is checked against docs/openapi.json (docs/http.md §8.5).
    setupFiles: ['test/setup/openapi.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
