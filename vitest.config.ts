import { defineConfig } from 'vitest/config';

// Three tiers by file name: *.test.ts (unit), *.int.test.ts (real NATS/PostgreSQL/Redis), *.e2e.test.ts (services as processes).
const shared = { resolve: { conditions: ['development'] } };
export default defineConfig({
  ...shared,
  test: {
    projects: [
      { ...shared, test: { name: 'unit', include: ['{apps,packages}/*/{src,test}/**/*.test.ts', 'infra/test/**/*.test.ts'], exclude: ['**/*.int.test.ts', '**/*.e2e.test.ts', '**/node_modules/**'] } },
      { ...shared, test: { name: 'integration', include: ['{apps,packages}/*/{src,test}/**/*.int.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } },
      { ...shared, test: { name: 'e2e', include: ['test/e2e/**/*.e2e.test.ts'], testTimeout: 180_000, hookTimeout: 300_000, fileParallelism: false } },
    ],
  },
});
