/**
 * The point of `combine` + `generate`: a service's code compiles only with keys its schemas declare.
 * Runs the real `tsc` over a copy of the fixture workspace.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, copyFixtureWorkspace, removeCopies, repoRoot } from "../../test/cli-harness.ts";

const sdkEntry = join(repoRoot, "packages", "sdk", "src", "index.ts");
let app: string;

beforeAll(async () => {
  const workspace = copyFixtureWorkspace();
  app = join(workspace, "packages", "app");
  rmSync(join(app, "secrets.ts"));
  rmSync(join(app, "secrets.schema.combined.json"));
  expect((await cli(["combine"], { cwd: app })).code).toBe(0);
  expect((await cli(["generate", "--combined"], { cwd: app })).code).toBe(0);
});

afterAll(removeCopies);

async function typecheck(fileName: string, source: string): Promise<{ code: number; output: string }> {
  writeFileSync(join(app, fileName), source);
  const config = join(app, `tsconfig.${fileName}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      compilerOptions: {
        target: "ES2023",
        module: "Preserve",
        moduleResolution: "bundler",
        lib: ["ES2023"],
        types: ["bun"],
        typeRoots: [join(repoRoot, "node_modules", "@types")],
        strict: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
        isolatedModules: true,
        allowImportingTsExtensions: true,
        noEmit: true,
        skipLibCheck: true,
      },
      files: [fileName],
    }),
  );
  const tsc = Bun.spawn([join(repoRoot, "node_modules", ".bin", "tsc"), "-p", config, "--pretty", "false"], {
    cwd: app,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(tsc.stdout).text(),
    new Response(tsc.stderr).text(),
    tsc.exited,
  ]);
  return { code, output: stdout + stderr };
}

const header = `import { createSecretsClient } from ${JSON.stringify(sdkEntry)};
import { type SecretsSchema, secretsSchema } from "./secrets.ts";

const secrets = createSecretsClient(secretsSchema, { serviceName: "app" });
`;

describe("the generated client", () => {
  it("compiles with every key the package and its dependencies declare", async () => {
    const result = await typecheck(
      "uses-declared-keys.ts",
      `${header}
export async function main(): Promise<string> {
  const stripe: string = await secrets.getSecret("STRIPE_API_KEY");
  const session = await secrets.getSecret("APP_SESSION_SECRET");
  const all: SecretsSchema = await secrets.getSecrets();
  const short = createSecretsClient({ ONLY_KEY: "a description" }, { source: "env" });
  return stripe + session + all.SMTP_PASSWORD + all.DATABASE_URL + (await short.getSecret("ONLY_KEY"));
}
`,
    );
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  }, 60_000);

  it("refuses a key no schema declares, naming it", async () => {
    const result = await typecheck(
      "uses-undeclared-key.ts",
      `${header}
export const missing = secrets.getSecret("UNDECLARED_KEY");
export const fromShortForm = createSecretsClient({ ONLY_KEY: "a description" }, { source: "env" }).getSecret("OTHER_KEY");
`,
    );
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/uses-undeclared-key\.ts\(6,\d+\): error TS2345: .*"UNDECLARED_KEY"/);
    expect(result.output).toMatch(/uses-undeclared-key\.ts\(7,\d+\): error TS2345: .*"OTHER_KEY"/);
    expect(result.output).toContain(
      '"APP_SESSION_SECRET" | "DATABASE_URL" | "SMTP_PASSWORD" | "STRIPE_API_KEY"',
    );
  }, 60_000);
});
