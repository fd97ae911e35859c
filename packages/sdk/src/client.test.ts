import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeGateway, recordingLogger, unavailable } from "../test/fake-gateway.ts";
import { createSecretsClient } from "./client.ts";
import {
  AccessDeniedError,
  AccessPendingError,
  SecretMissingError,
  SecretsConfigurationError,
  SecretsError,
  SecretsUnavailableError,
  TokenPendingApprovalError,
} from "./errors.ts";
import type { GatewaySourceOptions } from "./options.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const schema = {
  type: "object",
  properties: {
    DATABASE_URL: { type: "string", description: "Database connection string" },
    STRIPE_API_KEY: { type: "string", description: "Stripe API key for payment processing" },
  },
} as const;

function setup(options: Partial<GatewaySourceOptions> = {}) {
  const gateway = fakeGateway();
  const { logger, lines } = recordingLogger();
  const dataDir = mkdtempSync(join(tmpdir(), "sdk-client-"));
  dirs.push(dataDir);
  let offset = 0;
  const client = createSecretsClient(
    schema,
    { serviceName: "orders", serviceVersion: "2.1.0", dataDir, logger, ...options },
    { transport: gateway.transport, now: () => Date.now() + offset, random: () => 0.5 },
  );
  const token = () => JSON.parse(readFileSync(join(dataDir, "service-token"), "utf8")).token as string;
  return {
    gateway,
    client,
    lines,
    token,
    advance: (ms: number) => {
      offset += ms;
    },
  };
}

/** Approves everything and sets both values. */
function ready(
  gateway: ReturnType<typeof fakeGateway>,
  values = { DATABASE_URL: "postgres://db", STRIPE_API_KEY: "sk_1" },
) {
  gateway.approveTokens();
  for (const [name, value] of Object.entries(values)) {
    gateway.setValue(name, value);
    gateway.approveAccess(name);
  }
}

describe("createSecretsClient over the gateway", () => {
  it("registers its token once, then reads with the schema's description", async () => {
    const { gateway, client } = setup();
    await expect(client.getSecret("DATABASE_URL")).rejects.toBeInstanceOf(TokenPendingApprovalError);
    ready(gateway);
    expect(await client.getSecret("DATABASE_URL")).toBe("postgres://db");
    expect(await client.getSecrets()).toEqual({ DATABASE_URL: "postgres://db", STRIPE_API_KEY: "sk_1" });
    expect(gateway.calls.filter((c) => c.rpc === "RegisterToken")).toEqual([
      { rpc: "RegisterToken", serviceName: "orders" },
    ]);
    expect(gateway.calls.find((c) => c.secretName === "STRIPE_API_KEY")?.description).toBe(
      "Stripe API key for payment processing",
    );
    expect(client.keys).toEqual(["DATABASE_URL", "STRIPE_API_KEY"]);
  });

  it("maps each refusal to its error class, with what an admin must do", async () => {
    const { gateway, client } = setup();
    const pending = await client.getSecret("DATABASE_URL").catch((e) => e);
    expect(pending).toBeInstanceOf(TokenPendingApprovalError);
    expect(pending).toMatchObject({ name: "TokenPendingApprovalError", serviceName: "orders" });
    expect(pending.message).toContain("approve");
    gateway.approveTokens();
    const missing = await client.getSecret("DATABASE_URL").catch((e) => e);
    expect(missing).toBeInstanceOf(SecretMissingError);
    expect(missing).toMatchObject({ reason: "SECRET_STUB_CREATED", secretName: "DATABASE_URL" });
    expect(missing.message).toContain("add its value");
    expect(gateway.stubs.get("DATABASE_URL")).toBe("Database connection string");
    // A stub's access request is pending too: the key stays missing until the gateway says otherwise.
    gateway.setValue("DATABASE_URL", "x");
    await expect(client.getSecret("DATABASE_URL")).rejects.toBeInstanceOf(SecretMissingError);
    gateway.approveAccess("DATABASE_URL");
    expect(await client.getSecret("DATABASE_URL")).toBe("x");
    gateway.setValue("STRIPE_API_KEY", "sk");
    const access = await client.getSecret("STRIPE_API_KEY").catch((e) => e);
    expect(access).toBeInstanceOf(AccessPendingError);
    expect(access.message).toContain("POST /access-requests/:id/approve");
    gateway.denyAccess("STRIPE_API_KEY");
    await expect(client.getSecret("STRIPE_API_KEY")).rejects.toBeInstanceOf(AccessDeniedError);
    gateway.outage = unavailable;
    const down = await client.getSecret("STRIPE_API_KEY").catch((e) => e);
    expect(down).toBeInstanceOf(SecretsUnavailableError);
    expect(down).toBeInstanceOf(SecretsError);
    expect(down.cause).toBeInstanceOf(Error);
  });

  it("caches values for the TTL, then reads again", async () => {
    const { gateway, client, advance } = setup({ cacheTtlMs: 10_000 });
    ready(gateway);
    expect(await client.getSecret("DATABASE_URL")).toBe("postgres://db");
    gateway.setValue("DATABASE_URL", "rotated");
    advance(9_000);
    expect(await client.getSecret("DATABASE_URL")).toBe("postgres://db");
    advance(1_000);
    expect(await client.getSecret("DATABASE_URL")).toBe("rotated");
    expect(gateway.calls.filter((c) => c.rpc === "GetSecret")).toHaveLength(2);
  });

  it("reads every time with a TTL of 0, and shares one call between concurrent readers", async () => {
    const { gateway, client } = setup({ cacheTtlMs: 0 });
    ready(gateway);
    await client.getSecret("DATABASE_URL");
    await client.getSecret("DATABASE_URL");
    await Promise.all([client.getSecret("STRIPE_API_KEY"), client.getSecret("STRIPE_API_KEY")]);
    expect(gateway.calls.filter((c) => c.rpc === "GetSecret")).toHaveLength(3);
  });

  it("fails during an outage unless the caller opted in to stale values", async () => {
    const { gateway, client, advance } = setup({ cacheTtlMs: 1_000 });
    ready(gateway);
    await client.getSecret("DATABASE_URL");
    advance(5_000);
    gateway.outage = unavailable;
    await expect(client.getSecret("DATABASE_URL")).rejects.toBeInstanceOf(SecretsUnavailableError);
  });

  it("serves the last value during an outage when serveStaleOnError is set, and warns once", async () => {
    const { gateway, client, advance, lines } = setup({ cacheTtlMs: 1_000, serveStaleOnError: true });
    ready(gateway);
    await client.getSecret("DATABASE_URL");
    advance(60_000);
    gateway.outage = { ...unavailable, reason: "AUDIT_UNAVAILABLE" };
    expect(await client.getSecret("DATABASE_URL")).toBe("postgres://db");
    expect(await client.getSecret("DATABASE_URL")).toBe("postgres://db");
    const warnings = lines.filter((l) => l.message.includes("serving the last value"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toMatchObject({ secretName: "DATABASE_URL", reason: "AUDIT_UNAVAILABLE" });
    expect(warnings[0]?.fields.ageMs).toBeGreaterThanOrEqual(60_000);
    // Never stale for what is not an outage, nor for a key never read.
    await expect(client.getSecret("STRIPE_API_KEY")).rejects.toBeInstanceOf(SecretsUnavailableError);
    gateway.outage = undefined;
    gateway.denyAccess("DATABASE_URL");
    await expect(client.getSecret("DATABASE_URL")).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it("serves a stale value for at most maxStaleMs (default 1 h), then throws the outage's error", async () => {
    const { gateway, client, advance } = setup({ cacheTtlMs: 1_000, serveStaleOnError: true });
    ready(gateway);
    await client.getSecret("DATABASE_URL");
    gateway.outage = unavailable;
    advance(3_600_000);
    expect(await client.getSecret("DATABASE_URL")).toBe("postgres://db");
    advance(1);
    await expect(client.getSecret("DATABASE_URL")).rejects.toBeInstanceOf(SecretsUnavailableError);
    // Read again once the gateway is back, it may be served stale again for the same time.
    gateway.outage = undefined;
    expect(await client.getSecret("DATABASE_URL")).toBe("postgres://db");
    gateway.outage = unavailable;
    advance(10_000);
    expect(await client.getSecret("DATABASE_URL")).toBe("postgres://db");

    const short = setup({ cacheTtlMs: 1_000, serveStaleOnError: true, maxStaleMs: 5_000 });
    ready(short.gateway);
    await short.client.getSecret("DATABASE_URL");
    short.gateway.outage = unavailable;
    short.advance(5_001);
    await expect(short.client.getSecret("DATABASE_URL")).rejects.toBeInstanceOf(SecretsUnavailableError);
  });

  it("is not poisoned by a failed registration or call: the next call starts afresh", async () => {
    const { gateway, client } = setup({ cacheTtlMs: 0 });
    gateway.outage = unavailable;
    await expect(client.getSecret("DATABASE_URL")).rejects.toBeInstanceOf(SecretsUnavailableError);
    await expect(client.getSecret("DATABASE_URL")).rejects.toBeInstanceOf(SecretsUnavailableError);
    gateway.outage = undefined;
    await expect(client.getSecret("DATABASE_URL")).rejects.toBeInstanceOf(TokenPendingApprovalError);
    ready(gateway);
    expect(await client.getSecret("DATABASE_URL")).toBe("postgres://db");
    gateway.outage = unavailable;
    await expect(client.getSecret("DATABASE_URL")).rejects.toBeInstanceOf(SecretsUnavailableError);
    gateway.outage = undefined;
    expect(await client.getSecret("DATABASE_URL")).toBe("postgres://db");
    expect(gateway.calls.filter((c) => c.rpc === "RegisterToken")).toHaveLength(3);
  });

  it("registers again, once, when the gateway no longer knows the token", async () => {
    const { gateway, client } = setup({ cacheTtlMs: 0 });
    ready(gateway);
    await client.getSecret("DATABASE_URL");
    gateway.forgetTokens();
    await expect(client.getSecret("DATABASE_URL")).rejects.toBeInstanceOf(TokenPendingApprovalError);
    expect(gateway.calls.filter((c) => c.rpc === "RegisterToken")).toHaveLength(2);
  });

  it("keeps its token across clients (restarts) in the data directory", async () => {
    const first = setup();
    await first.client.getSecret("DATABASE_URL").catch(() => {});
    const token = first.token();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const second = createSecretsClient(
      schema,
      { serviceName: "orders", dataDir: dirs[0] as string, logger: recordingLogger().logger },
      { transport: first.gateway.transport },
    );
    first.gateway.approveTokens();
    await expect(second.getSecret("DATABASE_URL")).rejects.toBeInstanceOf(SecretMissingError);
  });

  it("refuses an undeclared key at run time too", async () => {
    const { client } = setup();
    // @ts-expect-error: the compiler refuses keys the schema does not declare.
    const error = await client.getSecret("NOT_DECLARED").catch((e) => e);
    expect(error).toBeInstanceOf(SecretsConfigurationError);
    expect(error.message).toContain("NOT_DECLARED");
  });

  it("refuses calls after close and forgets the values", async () => {
    const { gateway, client } = setup();
    ready(gateway);
    await client.getSecret("DATABASE_URL");
    client.close();
    expect(gateway.closed).toBe(true);
    await expect(client.getSecret("DATABASE_URL")).rejects.toBeInstanceOf(SecretsConfigurationError);
  });

  it("never logs a value or the token", async () => {
    const { gateway, client, lines, token } = setup({ serveStaleOnError: true, cacheTtlMs: 1 });
    await client.waitUntilReady({ timeoutMs: 1 }).catch(() => {});
    ready(gateway, { DATABASE_URL: "value-one-secret", STRIPE_API_KEY: "value-two-secret" });
    await client.waitUntilReady({ initialDelayMs: 1 });
    gateway.outage = unavailable;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await client.getSecrets();
    const text = JSON.stringify(lines);
    expect(lines.length).toBeGreaterThan(2);
    for (const secret of ["value-one-secret", "value-two-secret", token()])
      expect(text).not.toContain(secret);
  });
});

describe("waitUntilReady", () => {
  it("logs once per distinct state what an admin must do, then resolves when every secret is readable", async () => {
    const { gateway, client, lines } = setup();
    let polls = 0;
    const admin = async () => {
      // An admin acting while the service waits: one step every few polls.
      while (polls < 40) {
        await new Promise((resolve) => setTimeout(resolve, 3));
        polls++;
        // STRIPE_API_KEY has a value before the service asks; DATABASE_URL becomes a stub.
        if (polls === 5) gateway.setValue("STRIPE_API_KEY", "sk_1");
        if (polls === 8) gateway.approveTokens();
        if (polls === 15) gateway.approveAccess("STRIPE_API_KEY");
        if (polls === 20) gateway.setValue("DATABASE_URL", "postgres://db");
        if (polls === 25) gateway.approveAccess("DATABASE_URL");
      }
    };
    await Promise.all([client.waitUntilReady({ initialDelayMs: 1, maxDelayMs: 2 }), admin()]);
    const messages = lines.filter((l) => l.level === "warn").map((l) => l.message);
    expect(messages).toEqual([
      'Secrets of service "orders" not ready: token for service "orders" awaits approval',
      'Secrets of service "orders" not ready: access to STRIPE_API_KEY awaits approval; secret DATABASE_URL is missing: add a value',
      'Secrets of service "orders" not ready: secret DATABASE_URL is missing: add a value',
    ]);
    expect(lines.filter((l) => l.level === "warn")[1]?.fields).toMatchObject({
      serviceName: "orders",
      accessPending: ["STRIPE_API_KEY"],
      missing: ["DATABASE_URL"],
    });
    expect(lines.at(-1)).toMatchObject({ level: "info", message: "secrets ready" });
    expect(await client.getSecret("DATABASE_URL")).toBe("postgres://db");
  });

  it("backs off between polls", async () => {
    const { gateway, client } = setup();
    const started = Date.now();
    await client.waitUntilReady({ timeoutMs: 200, initialDelayMs: 20, maxDelayMs: 80 }).catch(() => {});
    const polls = gateway.calls.filter((c) => c.rpc === "GetSecrets").length / 2;
    // 15 + 30 + 60 + 60 ms (half fixed, half jitter at 0.5) fit in 200 ms: about 4 polls, never a tight loop.
    expect(polls).toBeGreaterThanOrEqual(3);
    expect(polls).toBeLessThanOrEqual(6);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it("rejects after the timeout with the error most worth acting on", async () => {
    const { gateway, client } = setup();
    gateway.approveTokens();
    gateway.setValue("DATABASE_URL", "x");
    await client.getSecret("DATABASE_URL").catch(() => {});
    const error = await client.waitUntilReady({ timeoutMs: 20, initialDelayMs: 5 }).catch((e) => e);
    // DATABASE_URL awaits access, STRIPE_API_KEY is missing: access comes first.
    expect(error).toBeInstanceOf(AccessPendingError);
  });

  it("keeps polling through an outage and reports it once", async () => {
    const { gateway, client, lines } = setup();
    ready(gateway);
    gateway.outage = unavailable;
    setTimeout(() => {
      gateway.outage = undefined;
    }, 30);
    await client.waitUntilReady({ initialDelayMs: 2, maxDelayMs: 4 });
    const warnings = lines.filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain("unavailable");
  });

  it("rejects at once for a denied token, which waiting cannot fix", async () => {
    const { gateway, client } = setup();
    await client.getSecret("DATABASE_URL").catch(() => {});
    gateway.denyTokens();
    const error = await client.waitUntilReady({ timeoutMs: 10_000 }).catch((e) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error.reason).toBe("TOKEN_DENIED");
    expect(error.message).toContain("service-token");
  });

  it("stops when its signal aborts, with the signal's reason", async () => {
    const { client } = setup();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("shutting down")), 20);
    await expect(client.waitUntilReady({ signal: controller.signal, initialDelayMs: 5 })).rejects.toThrow(
      "shutting down",
    );
  });
});

describe("reading every key at once (GetSecrets)", () => {
  it("reads all keys in one call, each with its own outcome", async () => {
    const { gateway, client } = setup();
    gateway.approveTokens();
    gateway.setValue("STRIPE_API_KEY", "sk_1");
    gateway.approveAccess("STRIPE_API_KEY");
    // DATABASE_URL does not exist: a stub, with the schema's description; STRIPE_API_KEY is still read.
    const error = await client.getSecrets().catch((e) => e);
    expect(error).toBeInstanceOf(SecretMissingError);
    expect(gateway.calls.filter((c) => c.rpc !== "RegisterToken")).toEqual([
      { rpc: "GetSecrets", secretName: "DATABASE_URL", description: "Database connection string" },
      {
        rpc: "GetSecrets",
        secretName: "STRIPE_API_KEY",
        description: "Stripe API key for payment processing",
      },
    ]);
    expect(gateway.stubs.get("DATABASE_URL")).toBe("Database connection string");
    // The value read in that call is cached: only DATABASE_URL is asked for again.
    gateway.setValue("DATABASE_URL", "postgres://db");
    gateway.approveAccess("DATABASE_URL");
    expect(await client.getSecrets()).toEqual({ DATABASE_URL: "postgres://db", STRIPE_API_KEY: "sk_1" });
    expect(gateway.calls.filter((c) => c.rpc === "GetSecrets").map((c) => c.secretName)).toEqual([
      "DATABASE_URL",
      "STRIPE_API_KEY",
      "DATABASE_URL",
    ]);
    expect(gateway.calls.filter((c) => c.rpc === "GetSecret")).toEqual([]);
  });

  it("fails every key alike when the token is refused, and registers again when it is unknown", async () => {
    const { gateway, client } = setup();
    const pending = await client.getSecrets().catch((e) => e);
    expect(pending).toBeInstanceOf(TokenPendingApprovalError);
    ready(gateway);
    gateway.forgetTokens();
    gateway.approveTokens();
    expect(await client.getSecrets()).toEqual({ DATABASE_URL: "postgres://db", STRIPE_API_KEY: "sk_1" });
    expect(gateway.calls.filter((c) => c.rpc === "RegisterToken")).toHaveLength(2);
  });

  it("falls back to one GetSecret per key on a gateway without GetSecrets, and remembers", async () => {
    for (const batch of ["unimplemented", false] as const) {
      const gateway = fakeGateway({ batch });
      const dataDir = mkdtempSync(join(tmpdir(), "sdk-client-"));
      dirs.push(dataDir);
      const client = createSecretsClient(
        schema,
        { serviceName: "orders", dataDir, cacheTtlMs: 0, logger: recordingLogger().logger },
        { transport: gateway.transport },
      );
      ready(gateway);
      expect(await client.getSecrets()).toEqual({ DATABASE_URL: "postgres://db", STRIPE_API_KEY: "sk_1" });
      await client.waitUntilReady();
      const rpcs = gateway.calls.filter((c) => c.rpc !== "RegisterToken").map((c) => c.rpc);
      expect(rpcs.filter((rpc) => rpc === "GetSecret")).toHaveLength(4);
      expect(rpcs.filter((rpc) => rpc === "GetSecrets")).toHaveLength(batch === "unimplemented" ? 2 : 0);
    }
  });

  it("reads while it registers a token stored by an earlier run", async () => {
    const first = setup();
    ready(first.gateway);
    await first.client.getSecrets();
    const register = first.gateway.transport.registerToken.bind(first.gateway.transport);
    let release: () => void = () => {};
    first.gateway.transport.registerToken = async (...args) => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return register(...args);
    };
    const restarted = createSecretsClient(
      schema,
      { serviceName: "orders", dataDir: dirs[0] as string, logger: recordingLogger().logger },
      { transport: first.gateway.transport },
    );
    const reading = restarted.getSecrets();
    // The read goes out while the registration is still held back.
    await vi.waitFor(() => expect(first.gateway.calls.filter((c) => c.rpc === "GetSecrets")).toHaveLength(4));
    release();
    expect(await reading).toEqual({ DATABASE_URL: "postgres://db", STRIPE_API_KEY: "sk_1" });
  });

  it("splits many keys into calls the gateway accepts, and reads a value too large for a batch alone", async () => {
    const gateway = fakeGateway();
    const keys = Array.from({ length: 150 }, (_, i) => `KEY_${String(i).padStart(3, "0")}`);
    const dataDir = mkdtempSync(join(tmpdir(), "sdk-client-"));
    dirs.push(dataDir);
    const client = createSecretsClient(
      Object.fromEntries(keys.map((key) => [key, `the ${key}`])),
      { serviceName: "orders", dataDir, logger: recordingLogger().logger },
      { transport: gateway.transport },
    );
    gateway.approveTokens();
    for (const key of keys) {
      gateway.setValue(key, `value-${key}`);
      gateway.approveAccess(key);
    }
    const batchCall = gateway.transport.getSecrets?.bind(gateway.transport);
    const callSizes: number[] = [];
    gateway.transport.getSecrets = async (request, token, timeoutMs) => {
      callSizes.push(request.secrets.length);
      const result = await (batchCall as NonNullable<typeof batchCall>)(request, token, timeoutMs);
      if (!result.ok) return result;
      // The gateway refuses KEY_007 in a batch (its value would not fit): the client reads it alone.
      const results = result.response.results.map((entry) =>
        entry.secretName === "KEY_007"
          ? {
              secretName: entry.secretName,
              ok: false as const,
              failure: { code: "RESOURCE_EXHAUSTED", details: "too large", reason: "" },
            }
          : entry,
      );
      return { ...result, response: { results } };
    };
    const values = await client.getSecrets();
    expect(Object.keys(values)).toHaveLength(150);
    expect(values).toMatchObject({
      KEY_000: "value-KEY_000",
      KEY_007: "value-KEY_007",
      KEY_149: "value-KEY_149",
    });
    expect(callSizes).toEqual([100, 50]);
    expect(gateway.calls.filter((c) => c.rpc === "GetSecret").map((c) => c.secretName)).toEqual(["KEY_007"]);
  });
});

describe("createSecretsClient's checks", () => {
  it("refuses an invalid schema, naming each problem", () => {
    expect(() => createSecretsClient({ lower_case: "x", EMPTY: "" }, { serviceName: "orders" })).toThrowError(
      /lower_case: name must match.*EMPTY: needs a description/,
    );
  });

  it("refuses invalid options, naming each problem", () => {
    const error = (() => {
      try {
        createSecretsClient({ A: "a" }, { serviceName: "Orders", address: "nowhere", timeoutMs: 0 });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(SecretsConfigurationError);
    expect(error?.message).toContain("serviceName must match");
    expect(error?.message).toContain("address must be host:port");
    expect(error?.message).toContain("timeoutMs");
  });

  it("explains that Bun cannot open TLS to an IP address without tlsServerName", () => {
    expect(() =>
      createSecretsClient({ A: "a" }, { serviceName: "orders", address: "127.0.0.1:50051" }),
    ).toThrowError(/tlsServerName/);
    expect(() =>
      createSecretsClient(
        { A: "a" },
        { serviceName: "orders", address: "127.0.0.1:50051", tlsServerName: "localhost" },
      ),
    ).not.toThrow();
    expect(() =>
      createSecretsClient({ A: "a" }, { serviceName: "orders", address: "127.0.0.1:50051", insecure: true }),
    ).not.toThrow();
  });
});
