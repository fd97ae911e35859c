/**
 * Security invariant: no network-facing process can read a key or open the database. Only the vault
 * imports the data layer, the keyring and the database drivers.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { explain, reachableFrom, repoRoot, sourceFiles } from "./support/import-graph.ts";

const networkFacing = ["services/gateway-grpc", "services/admin-api", "services/audit", "web", "packages"];
const forbiddenPackages = ["drizzle-orm", "postgres", "@electric-sql/pglite", "@secrets/vault"];

describe("import boundaries", () => {
  for (const root of networkFacing) {
    it(`${root} reaches neither the vault's code nor a database driver`, () => {
      const entries = sourceFiles(join(repoRoot, root));
      const reach = reachableFrom(entries);
      const vaultFiles = [...reach.files].filter((file) => file.startsWith("services/vault/"));
      const drivers = forbiddenPackages.filter((name) => reach.packages.has(name));
      expect(vaultFiles.map((file) => explain(reach, file))).toEqual([]);
      expect(drivers.map((name) => explain(reach, name))).toEqual([]);
    });
  }

  it("packages/oidc reaches no service and no HTTP framework: the admin API and the vault both verify with it", () => {
    const reach = reachableFrom(sourceFiles(join(repoRoot, "packages/oidc/src")));
    const serviceFiles = [...reach.files].filter((file) => file.startsWith("services/"));
    expect(serviceFiles.map((file) => explain(reach, file))).toEqual([]);
    expect(reach.packages.has("elysia")).toBe(false);
    expect(reach.packages.has("jose")).toBe(true);
  });

  it("follows workspace packages across folders (the check can fail)", () => {
    const reach = reachableFrom(sourceFiles(join(repoRoot, "packages/bus/src")));
    expect(reach.files.has("proto/gen/secrets/v1/bus.ts")).toBe(true);
    expect(reach.packages.has("nats")).toBe(true);
  });

  it("sees the vault reach its keyring and database driver (the check can fail)", () => {
    const reach = reachableFrom(sourceFiles(join(repoRoot, "services/vault/src")));
    expect([...reach.files].some((file) => file.startsWith("services/vault/src/keyring/"))).toBe(true);
    expect(reach.packages.has("drizzle-orm")).toBe(true);
  });
});
