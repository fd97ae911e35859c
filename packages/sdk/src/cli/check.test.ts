import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, copyFixtureWorkspace, removeCopies, tempDir } from "../../test/cli-harness.ts";

afterEach(removeCopies);

describe("secrets check", () => {
  it("passes on valid, up-to-date schemas", async () => {
    const workspace = copyFixtureWorkspace();
    expect(await cli(["check", "packages/app"], { cwd: workspace })).toEqual({
      code: 0,
      stdout: ["ok: 3 schemas, 4 secrets"],
      stderr: [],
    });
  });

  it("names the file, the key and the problem for each problem, and exits non-zero", async () => {
    const workspace = copyFixtureWorkspace();
    writeFileSync(
      join(workspace, "packages", "payments", "secrets.schema.json"),
      JSON.stringify({
        type: "object",
        properties: {
          stripe_key: { type: "string", description: "Stripe" },
          DATABASE_URL: { type: "string" },
          LONG: { type: "string", description: "x".repeat(1025) },
        },
      }),
    );
    writeFileSync(join(workspace, "packages", "mailer", "secrets.schema.json"), "{ not json");
    const result = await cli(["check"], { cwd: join(workspace, "packages", "app") });
    expect(result.code).toBe(1);
    expect(result.stderr).toEqual([
      expect.stringMatching(/^\.\.\/mailer\/secrets\.schema\.json: not valid JSON/),
      "../payments/secrets.schema.json: stripe_key: name must match ^[A-Z][A-Z0-9_]{0,127}$ (upper-case letters, digits, _)",
      "../payments/secrets.schema.json: DATABASE_URL: needs a description (a non-empty string): admins see it when the secret is missing",
      "../payments/secrets.schema.json: LONG: description must be at most 1024 bytes",
      "secrets: secrets check: 4 problems",
    ]);
  });

  it("flags a combined schema or a generated secrets.ts that is out of date", async () => {
    const workspace = copyFixtureWorkspace();
    const app = join(workspace, "packages", "app");
    writeFileSync(
      join(app, "secrets.schema.json"),
      JSON.stringify({ type: "object", properties: { APP_NEW_KEY: { type: "string", description: "New" } } }),
    );
    const result = await cli(["check"], { cwd: app });
    expect(result.code).toBe(1);
    expect(result.stderr).toEqual([
      "secrets.schema.combined.json: out of date with the schemas it combines: run `secrets combine`",
      "secrets: secrets check: 1 problem",
    ]);
    await cli(["combine"], { cwd: app });
    expect((await cli(["check"], { cwd: app })).stderr[0]).toBe(
      "secrets.ts: out of date with secrets.schema.combined.json: run `secrets generate --combined`",
    );
    await cli(["generate", "--combined"], { cwd: app });
    expect((await cli(["check"], { cwd: app })).code).toBe(0);
  });

  it("says when there is no schema at all", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "lonely" }));
    const result = await cli(["check"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr[0]).toBe("secrets.schema.json: not found (and no workspace dependency has one)");
  });
});
