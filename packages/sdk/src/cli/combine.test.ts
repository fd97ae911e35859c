import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, copyFixtureWorkspace, fixtureWorkspace, removeCopies } from "../../test/cli-harness.ts";
import { packageWithDependencies } from "./workspace.ts";

afterEach(removeCopies);

describe("workspace dependencies", () => {
  it("follows workspace: dependencies and devDependencies recursively, each package once", () => {
    const packages = packageWithDependencies(join(fixtureWorkspace, "packages", "app"));
    expect(packages.map((p) => p.name)).toEqual([
      "@fixture/app",
      "@fixture/mailer",
      "@fixture/payments",
      "@fixture/ledger",
    ]);
    expect(packages[3]?.dir).toBe(join(fixtureWorkspace, "packages", "ledger"));
  });

  it("names a workspace dependency that the workspace does not have", async () => {
    const workspace = copyFixtureWorkspace();
    const app = join(workspace, "packages", "app");
    const manifest = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
    manifest.dependencies["@fixture/gone"] = "workspace:*";
    writeFileSync(join(app, "package.json"), JSON.stringify(manifest));
    const result = await cli(["combine"], { cwd: app });
    expect(result.code).toBe(1);
    expect(result.stderr.join("\n")).toContain(
      "workspace dependency @fixture/gone is not a package of the workspace",
    );
  });
});

describe("secrets combine", () => {
  it("writes the package's keys and its dependencies', sorted, deterministic", async () => {
    const workspace = copyFixtureWorkspace();
    const app = join(workspace, "packages", "app");
    const result = await cli(["combine"], { cwd: app });
    expect(result.code).toBe(0);
    expect(result.stdout[0]).toBe("wrote secrets.schema.combined.json: 4 secrets from 3 schemas");
    const text = readFileSync(join(app, "secrets.schema.combined.json"), "utf8");
    const combined = JSON.parse(text);
    expect(Object.keys(combined.properties)).toEqual([
      "APP_SESSION_SECRET",
      "DATABASE_URL",
      "SMTP_PASSWORD",
      "STRIPE_API_KEY",
    ]);
    expect(combined.properties.DATABASE_URL).toEqual({
      type: "string",
      description: "Database connection string",
    });
    expect(combined.$comment).toContain("@fixture/app, @fixture/mailer, @fixture/payments");
    await cli(["combine", "packages/app"], { cwd: workspace });
    expect(readFileSync(join(app, "secrets.schema.combined.json"), "utf8")).toBe(text);
    // The committed fixture was produced by this command: no drift.
    expect(text).toBe(
      readFileSync(join(fixtureWorkspace, "packages", "app", "secrets.schema.combined.json"), "utf8"),
    );
  });

  it("reports one key with two descriptions, naming both packages, and writes nothing", async () => {
    const workspace = copyFixtureWorkspace();
    const mailerSchema = join(workspace, "packages", "mailer", "secrets.schema.json");
    const schema = JSON.parse(readFileSync(mailerSchema, "utf8"));
    schema.properties.DATABASE_URL.description = "The mail queue's database";
    writeFileSync(mailerSchema, JSON.stringify(schema));
    const app = join(workspace, "packages", "app");
    const before = readFileSync(join(app, "secrets.schema.combined.json"), "utf8");
    const result = await cli(["combine"], { cwd: app });
    expect(result.code).toBe(1);
    const report = result.stderr.join("\n");
    expect(report).toContain("DATABASE_URL: declared with different descriptions by @fixture/mailer");
    expect(report).toContain("and @fixture/payments");
    expect(report).toContain('"The mail queue\'s database"');
    expect(report).toContain('"Database connection string"');
    expect(readFileSync(join(app, "secrets.schema.combined.json"), "utf8")).toBe(before);
  });
});
