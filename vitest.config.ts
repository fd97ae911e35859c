import { defineConfig } from "vitest/config";

const excluded = ["**/node_modules/**", "**/dist/**"];

/**
 * The hardening suite, `bun run test:hardening` (`--project hardening`): attacks, faults, leaks, limits and
 * the layering rule. One entry per file or folder, so that a test moved or renamed is caught below
 * instead of silently leaving the suite.
 */
const hardening = [
  "test/hardening/**/*.test.ts",
  "test/import-boundaries.test.ts",
  "test/e2e/audit-shipping.test.ts",
  "test/e2e/http-leaks.test.ts",
  "test/e2e/nats-permissions.test.ts",
  "test/e2e/nats-tls.test.ts",
  "test/e2e/service-gets-secret.test.ts",
  "packages/bus/src/bus.contract.test.ts",
  "packages/bus/src/forwarded-token.test.ts",
  "packages/oidc/src/**/*.test.ts",
  "packages/validation/src/rate-limiter.test.ts",
  "services/admin-api/src/auth/**/*.test.ts",
  "services/admin-api/src/security.test.ts",
  "services/audit/src/journal/**/*.test.ts",
  "services/gateway-grpc/src/get-secret-handler.test.ts",
  "services/gateway-grpc/src/register-token-handler.test.ts",
  "services/gateway-grpc/src/undecodable-requests.test.ts",
  "services/vault/src/errors.test.ts",
  "services/vault/src/service-tokens/**/*.test.ts",
];

for (const pattern of hardening) {
  if (new Bun.Glob(pattern).scanSync({ cwd: import.meta.dirname }).next().done) {
    throw new Error(
      `vitest.config.ts: the hardening entry "${pattern}" matches no test file; update the list`,
    );
  }
}

export default defineConfig({
  test: {
    // Integration suites start real processes and talk to real PostgreSQL and NATS.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Every test file belongs to exactly one project, so `vitest run` runs each test once.
    projects: [
      { extends: true, test: { name: "hardening", include: hardening, exclude: excluded } },
      {
        extends: true,
        test: {
          name: "main",
          include: ["{packages,services,test,scripts}/**/*.test.ts"],
          exclude: [...excluded, ...hardening],
        },
      },
    ],
  },
});
