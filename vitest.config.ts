import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["{packages,services,test,scripts}/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    // Integration suites start real processes and talk to real PostgreSQL and NATS.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
