/**
 * The container healthchecks the compose file runs, against real processes: each reports healthy while
 * its service can do its job, and the vault's (and the gateway's, which needs the vault) report
 * unhealthy once the vault is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceProcess } from "../support/processes.ts";
import { repoRoot } from "../support/processes.ts";
import { createStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let vault: ServiceProcess;
let gatewayPort = 0;
let adminPort = 0;

function healthcheck(service: string, env: Record<string, string>): number {
  const run = Bun.spawnSync(["bun", `services/${service}/src/healthcheck.ts`], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    timeout: 20_000,
  });
  return run.exitCode ?? -1;
}

beforeAll(async () => {
  stack = await createStack();
  vault = await stack.startVault();
  gatewayPort = (await stack.startGateway()).port;
  adminPort = (await stack.startAdminApi()).port;
  await stack.startAudit({ AUDIT_SINK: "file", AUDIT_FILE_PATH: `${stack.tempDir("audit-")}/journal.jsonl` });
});

afterAll(async () => {
  await stack?.dispose();
});

describe("container healthchecks", () => {
  it("report every running service healthy", () => {
    expect(healthcheck("vault", stack.env())).toBe(0);
    expect(healthcheck("gateway-grpc", stack.env({ GRPC_PORT: String(gatewayPort) }))).toBe(0);
    expect(
      healthcheck("admin-api", stack.env({ ADMIN_PORT: String(adminPort), ADMIN_HOST: "127.0.0.1" })),
    ).toBe(0);
    expect(healthcheck("audit", stack.env())).toBe(0);
  });

  it("report the vault, and the gateway that needs it, unhealthy once the vault is gone", async () => {
    await vault.kill();
    await Bun.sleep(1_200);
    expect(healthcheck("vault", stack.env())).toBe(1);
    expect(healthcheck("gateway-grpc", stack.env({ GRPC_PORT: String(gatewayPort) }))).toBe(1);
    expect(
      healthcheck("admin-api", stack.env({ ADMIN_PORT: String(adminPort), ADMIN_HOST: "127.0.0.1" })),
    ).toBe(1);
  });
});
