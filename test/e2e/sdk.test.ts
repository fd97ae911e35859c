/**
 * The service SDK end to end, on real processes (vault, gateway, admin API on NATS and PostgreSQL):
 *
 * - a service that uses only the SDK registers, waits and logs what an admin must do, gets its secrets
 *   once an admin acts over the admin API, and keeps working across a gateway restart on the same port;
 * - `secrets import-env` moves a 24-entry `.env` (every syntax) into the vault through the admin API,
 *   `--dry-run` changing nothing, and the service reads back exactly the values of the file.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecretsClient, silentSecretsLogger } from "../../packages/sdk/src/index.ts";
import { type AdminHttpClient, adminHttpClient } from "../support/admin-http.ts";
import { repoRoot, type ServiceProcess, startService } from "../support/processes.ts";
import { createStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let gateway: Awaited<ReturnType<Stack["startGateway"]>>;
let http: AdminHttpClient;
let admin: ReturnType<AdminHttpClient["as"]>;
let service: ServiceProcess | undefined;
let serviceDir: string;

const adminToken = `ssadm_${randomBytes(32).toString("base64url")}`;
const values = {
  APP_SESSION_SECRET: `session-${crypto.randomUUID()}`,
  DATABASE_URL: `postgres://app:${crypto.randomUUID()}@db/app`,
  SMTP_PASSWORD: `smtp-${crypto.randomUUID()}`,
  STRIPE_API_KEY: `sk_test_${crypto.randomUUID()}`,
};
const rotatedStripeKey = `sk_rotated_${crypto.randomUUID()}`;

beforeAll(async () => {
  stack = await createStack();
  await stack.startVault({ ADMIN_BOOTSTRAP_TOKEN: adminToken });
  gateway = await stack.startGateway();
  const adminApi = await stack.startAdminApi();
  http = adminHttpClient(adminApi.url);
  admin = http.as({ token: adminToken });
  serviceDir = stack.tempDir("e2e-sdk-service-");
});

afterAll(async () => {
  await service?.stop();
  if (process.env.E2E_SHOW_SERVICE) console.log(service?.lines.join("\n"));
  await stack?.dispose();
});

/** Resolves once the process logs a line matching `msg` after its first `from` lines. */
async function nextLog(process: ServiceProcess, from: number, msg: string | RegExp, timeoutMs = 20_000) {
  const started = Date.now();
  const matches = (line: string) => {
    try {
      const entry = JSON.parse(line);
      return typeof msg === "string" ? entry.msg === msg : msg.test(entry.msg);
    } catch {
      return false;
    }
  };
  while (Date.now() - started < timeoutMs) {
    const index = process.lines.findIndex((line, i) => i >= from && matches(line));
    if (index >= 0) return JSON.parse(process.lines[index] as string);
    await Bun.sleep(50);
  }
  throw new Error(
    `${process.name} did not log ${msg} within ${timeoutMs} ms:\n${process.lines.slice(from).join("\n")}`,
  );
}

async function approvePendingAccess(serviceName: string, secretNames: string[]): Promise<void> {
  const pending = (await admin.listAccessRequests("pending")).json.accessRequests as {
    id: string;
    secretName: string;
    serviceName: string;
  }[];
  for (const request of pending.filter(
    (r) => r.serviceName === serviceName && secretNames.includes(r.secretName),
  )) {
    expect((await admin.approveAccess(request.id)).status).toBe(200);
  }
}

async function approveToken(serviceName: string): Promise<void> {
  const tokens = (await admin.listServiceTokens("pending")).json.serviceTokens as {
    id: string;
    serviceName: string;
  }[];
  const token = tokens.find((t) => t.serviceName === serviceName);
  expect(token).toBeDefined();
  expect((await admin.approveToken(token?.id ?? "")).status).toBe(200);
}

describe("a service that uses only the SDK", () => {
  it("registers, logs what an admin must do once per state, and gets its secrets once an admin acts", async () => {
    // One secret exists before the service first asks: it sees a pending access request, not a stub.
    expect((await admin.putSecret({ name: "DATABASE_URL", value: values.DATABASE_URL })).status).toBe(201);

    service = await startService("fixture-app", "test/fixtures/sdk-workspace/packages/app/src/main.ts", {
      env: {
        SECRETS_GATEWAY_ADDRESS: gateway.address,
        SECRETS_CA_FILE: gateway.caFile,
        SECRETS_TOKEN_DIR: serviceDir,
        SECRETS_CACHE_TTL_MS: "0",
        FIXTURE_VALUES_FILE: join(serviceDir, "values.json"),
      },
    });
    const tokenPending =
      'Secrets of service "fixture-app" not ready: token for service "fixture-app" awaits approval';
    await service.waitForLog(tokenPending);
    await Bun.sleep(1_000); // several polls: the state is still logged only once

    // The fingerprint the service logs is the one an admin sees beside the pending token.
    const stored = JSON.parse(readFileSync(join(serviceDir, "service-token"), "utf8")).token as string;
    const fingerprint = createHash("sha256").update(stored).digest("hex").slice(0, 8);
    await service.waitForLog(`token fingerprint ${fingerprint}…`);
    const pending = (await admin.listServiceTokens("pending")).json.serviceTokens as {
      serviceName: string;
      fingerprint: string;
      clientAddress: string;
    }[];
    expect(pending.find((t) => t.serviceName === "fixture-app")).toMatchObject({
      fingerprint,
      clientAddress: expect.stringMatching(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/),
    });

    await approveToken("fixture-app");
    await service.waitForLog(
      /not ready: access to DATABASE_URL awaits approval; secrets APP_SESSION_SECRET, SMTP_PASSWORD, STRIPE_API_KEY are missing: add their values$/,
    );
    const stubs = (await admin.listSecrets({ missing: "true" })).json.secrets as {
      name: string;
      description: string;
    }[];
    expect(stubs.find((s) => s.name === "STRIPE_API_KEY")).toMatchObject({
      description: "Stripe API key for payment processing",
    });

    for (const name of ["APP_SESSION_SECRET", "STRIPE_API_KEY"] as const) {
      expect((await admin.putSecret({ name, value: values[name] })).status).toBe(200);
    }
    await approvePendingAccess("fixture-app", ["DATABASE_URL", "APP_SESSION_SECRET", "STRIPE_API_KEY"]);
    await service.waitForLog(/not ready: secret SMTP_PASSWORD is missing: add a value$/);

    expect((await admin.putSecret({ name: "SMTP_PASSWORD", value: values.SMTP_PASSWORD })).status).toBe(200);
    // The grant route approves the request the service already made.
    const grant = await admin.grantAccess("SMTP_PASSWORD", "fixture-app");
    expect(grant).toMatchObject({ status: 200, json: { accessRequest: { status: "granted" } } });
    await service.waitForLog("service ready");
    await service.waitForLog("fetch ok");
    expect(JSON.parse(readFileSync(join(serviceDir, "values.json"), "utf8"))).toEqual(values);

    const messages = service.lines.map((line) => JSON.parse(line).msg as string);
    expect(messages.filter((m) => m === tokenPending)).toHaveLength(1);
    expect(messages.filter((m) => m === "service token registered")).toHaveLength(1);
  }, 90_000);

  it("keeps working across a gateway restart on the same port, and sees a rotated value", async () => {
    const running = service as ServiceProcess;
    const stoppedAt = running.lines.length;
    await gateway.process.stop();
    expect(await nextLog(running, stoppedAt, "fetch failed")).toMatchObject({
      error: "SecretsUnavailableError",
    });

    const restartedAt = running.lines.length;
    gateway = await stack.startGateway({
      GRPC_PORT: String(gateway.port),
      SECRETS_DATA_DIR: dirname(dirname(gateway.caFile)),
    });
    await nextLog(running, restartedAt, "fetch ok");

    expect((await admin.putSecret({ name: "STRIPE_API_KEY", value: rotatedStripeKey })).status).toBe(200);
    const deadline = Date.now() + 10_000;
    let seen = "";
    while (Date.now() < deadline && seen !== rotatedStripeKey) {
      await Bun.sleep(100);
      seen = JSON.parse(readFileSync(join(serviceDir, "values.json"), "utf8")).STRIPE_API_KEY;
    }
    expect(seen).toBe(rotatedStripeKey);
  }, 60_000);

  it("never logs a value or its token", () => {
    const token = JSON.parse(readFileSync(join(serviceDir, "service-token"), "utf8")).token as string;
    const lines = [...stack.logLines(), ...(service?.lines ?? [])];
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) {
      for (const secret of [token, rotatedStripeKey, ...Object.values(values)])
        expect(line).not.toContain(secret);
    }
  });
});

/** Every syntax of the parser, 24 entries (one empty, so skipped); the expected values written by hand. */
const dotenv = [
  "# Migrated from the billing service's environment",
  "",
  "export IMPORT_PLAIN=plain-value-01",
  "IMPORT_SPACES = spaced-value-02",
  "IMPORT_TRAILING_COMMENT=value-03 # a trailing comment",
  "IMPORT_HASH_INSIDE=value#04",
  "IMPORT_SINGLE='single $HOME \\n literal 05'",
  "IMPORT_SINGLE_HASH='value # 06 is not a comment'",
  'IMPORT_DOUBLE="double \\"quoted\\" 07"',
  'IMPORT_ESCAPES="tab\\there\\nnewline\\\\backslash 08"',
  'IMPORT_MULTILINE="-----BEGIN KEY-----',
  "line two 09",
  '-----END KEY-----"',
  "IMPORT_SINGLE_MULTILINE='first 10",
  "second'",
  'export IMPORT_EXPORT_QUOTED="exported 11"',
  "IMPORT_URL=postgres://user:p%40ss@db:5432/app?sslmode=require&n=12",
  "IMPORT_EQUALS=a=b=c-13",
  'IMPORT_DOUBLE_COMMENT="quoted 14" # a comment after the quotes',
  "\tIMPORT_INDENTED=indented-15",
  "IMPORT_UNICODE=ünïcødé-16 ✓",
  'IMPORT_JSON={"key":"value-17"}',
  'IMPORT_EMPTY=""',
  "IMPORT_EXISTING=replaced-value-19",
  "   # an indented comment",
  "IMPORT_BACKSLASH=C:\\path\\20",
  "IMPORT_TRAILING_SPACES=value-21   ",
  'IMPORT_DOLLAR="cost \\$22"',
  `IMPORT_LONG=${"x".repeat(4_000)}-23`,
  "IMPORT_LAST=last-24",
].join("\n");

const imported: Record<string, string> = {
  IMPORT_PLAIN: "plain-value-01",
  IMPORT_SPACES: "spaced-value-02",
  IMPORT_TRAILING_COMMENT: "value-03",
  IMPORT_HASH_INSIDE: "value#04",
  IMPORT_SINGLE: "single $HOME \\n literal 05",
  IMPORT_SINGLE_HASH: "value # 06 is not a comment",
  IMPORT_DOUBLE: 'double "quoted" 07',
  IMPORT_ESCAPES: "tab\there\nnewline\\backslash 08",
  IMPORT_MULTILINE: "-----BEGIN KEY-----\nline two 09\n-----END KEY-----",
  IMPORT_SINGLE_MULTILINE: "first 10\nsecond",
  IMPORT_EXPORT_QUOTED: "exported 11",
  IMPORT_URL: "postgres://user:p%40ss@db:5432/app?sslmode=require&n=12",
  IMPORT_EQUALS: "a=b=c-13",
  IMPORT_DOUBLE_COMMENT: "quoted 14",
  IMPORT_INDENTED: "indented-15",
  IMPORT_UNICODE: "ünïcødé-16 ✓",
  IMPORT_JSON: '{"key":"value-17"}',
  IMPORT_EXISTING: "replaced-value-19",
  IMPORT_BACKSLASH: "C:\\path\\20",
  IMPORT_TRAILING_SPACES: "value-21",
  IMPORT_DOLLAR: "cost $22",
  IMPORT_LONG: `${"x".repeat(4_000)}-23`,
  IMPORT_LAST: "last-24",
};

async function secretsCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn(["bun", "packages/sdk/src/cli/main.ts", ...args], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      SECRETS_ADMIN_URL: http.origin,
      SECRETS_ADMIN_TOKEN: adminToken,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

async function importedNames(): Promise<Map<string, string>> {
  const listed = (await admin.listSecrets({ q: "IMPORT_", limit: "1000" })).json.secrets as {
    name: string;
    updatedAt: string;
  }[];
  return new Map(listed.map((s) => [s.name, s.updatedAt]));
}

describe("secrets import-env", () => {
  it("imports a .env through the admin API: --dry-run changes nothing, then every value arrives intact", async () => {
    const file = join(stack.tempDir("e2e-import-"), "billing.env");
    writeFileSync(file, dotenv);
    expect((await admin.putSecret({ name: "IMPORT_EXISTING", value: "old-value" })).status).toBe(201);
    const before = await importedNames();

    const dryRun = await secretsCli("import-env", file, "--service", "billing", "--grant", "--dry-run");
    expect(dryRun.stderr).toBe("");
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(
      "IMPORT_EXISTING: would update (replacing its current value); would grant access to billing",
    );
    expect(dryRun.stdout).toContain("IMPORT_PLAIN: would create; would grant access to billing");
    expect(dryRun.stdout).toContain("IMPORT_EMPTY: skipped (empty value)");
    expect(dryRun.stdout).toContain("dry run: 22 to create, 1 to update; nothing was changed");
    expect(await importedNames()).toEqual(before);

    const run = await secretsCli("import-env", file, "--service", "billing", "--grant");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("IMPORT_PLAIN: created; access granted to billing");
    expect(run.stdout).toContain("IMPORT_EXISTING: updated; access granted to billing");
    expect(run.stdout).toContain(
      "imported 23 secrets: 22 created, 1 updated; access granted to billing for 23",
    );
    for (const value of Object.values(imported)) {
      expect(run.stdout).not.toContain(value);
      expect(dryRun.stdout).not.toContain(value);
    }
    expect([...(await importedNames()).keys()].sort()).toEqual(Object.keys(imported).sort());

    // The billing service reads back exactly the file's values (access was granted by the import).
    const billing = createSecretsClient(
      Object.fromEntries(Object.keys(imported).map((key) => [key, "imported from billing.env"])),
      {
        serviceName: "billing",
        address: gateway.address,
        caFile: gateway.caFile,
        dataDir: stack.tempDir("e2e-billing-"),
        logger: silentSecretsLogger,
      },
    );
    try {
      await billing.getSecrets().catch(() => {}); // registers the token
      await approveToken("billing");
      expect(await billing.getSecrets()).toEqual(imported);
    } finally {
      billing.close();
    }
  }, 60_000);

  it("refuses a bad .env by line number and imports nothing", async () => {
    const file = join(stack.tempDir("e2e-import-"), "bad.env");
    writeFileSync(
      file,
      'IMPORT_BAD_ONE=1\n\nlower_case=secret-value\nIMPORT_BAD_TWO=2\nIMPORT_BAD_THREE="never closed\n',
    );
    const before = await importedNames();
    const result = await secretsCli("import-env", file, "--service", "billing");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('bad.env:3: "lower_case" is not a valid secret name');
    expect(result.stderr).toContain("bad.env:5: IMPORT_BAD_THREE: unterminated double quote");
    expect(result.stderr).toContain("nothing was imported");
    expect(result.stderr + result.stdout).not.toContain("secret-value");
    expect(await importedNames()).toEqual(before);
  }, 30_000);

  it("exits 2 with the usage when called wrongly", async () => {
    const result = await secretsCli("import-env", "some.env");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("needs --service");
    expect(result.stderr).toContain("Usage: secrets <command>");
  });
});
