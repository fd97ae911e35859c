import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fakeGateway, recordingLogger } from "../test/fake-gateway.ts";
import { createSecretsClient, type SecretsClient } from "./client.ts";
import { SecretsConfigurationError } from "./errors.ts";
import type { GatewaySourceOptions } from "./options.ts";
import type { CallFailure, SecretsTransport, WatchHandlers } from "./transport.ts";
import type { SecretChange } from "./watcher.ts";

const schema = { DATABASE_URL: "Database connection string", STRIPE_API_KEY: "Stripe API key" } as const;
type Key = keyof typeof schema;

const dirs: string[] = [];
const clients: SecretsClient<Key>[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface FakeStream {
  names: readonly string[];
  token: string;
  handlers: WatchHandlers;
  cancelled: boolean;
  /** The gateway accepts the stream and sends the current versions it holds for the stream's names. */
  open(): void;
  push(secretName: string, version: number, deleted?: boolean): void;
  end(failure?: Partial<CallFailure>): void;
}

/** The fake gateway of the client tests, plus WatchSecrets streams the test drives by hand. */
function fakeWatchGateway() {
  const gateway = fakeGateway();
  const streams: FakeStream[] = [];
  /** What the next streams report as current versions (granted names only). */
  const versions = new Map<string, number>();
  const transport: SecretsTransport = {
    ...gateway.transport,
    watchSecrets(request, token, handlers) {
      const stream: FakeStream = {
        names: request.secretNames,
        token,
        handlers,
        cancelled: false,
        open() {
          handlers.onOpen(`req-${streams.indexOf(stream)}`);
          for (const name of request.secretNames) {
            const version = versions.get(name);
            if (version !== undefined) handlers.onChange({ secretName: name, version, deleted: false });
          }
        },
        push(secretName, version, deleted = false) {
          if (!stream.cancelled) handlers.onChange({ secretName, version, deleted });
        },
        end(failure) {
          if (stream.cancelled) return;
          stream.cancelled = true;
          handlers.onEnd({ code: "UNAVAILABLE", details: "gone", reason: "", requestId: "", ...failure });
        },
      };
      streams.push(stream);
      return {
        cancel: () => {
          stream.cancelled = true;
        },
      };
    },
  };
  const live = () => streams.filter((s) => !s.cancelled);
  return { gateway, transport, streams, versions, live };
}

function setup(options: Partial<GatewaySourceOptions> = {}) {
  const fake = fakeWatchGateway();
  const { logger, lines } = recordingLogger();
  const dataDir = mkdtempSync(join(tmpdir(), "sdk-watch-"));
  dirs.push(dataDir);
  const client = createSecretsClient(
    schema,
    { serviceName: "orders", dataDir, logger, ...options },
    { transport: fake.transport, random: () => 0 },
  );
  clients.push(client);
  const { gateway } = fake;
  gateway.approveTokens();
  for (const [name, value] of [
    ["DATABASE_URL", "postgres://v1"],
    ["STRIPE_API_KEY", "sk_v1"],
  ] as const) {
    gateway.setValue(name, value);
    gateway.approveAccess(name);
    fake.versions.set(name, 1);
  }
  const token = () => JSON.parse(readFileSync(join(dataDir, "service-token"), "utf8")).token as string;
  const gets = () => gateway.calls.filter((c) => c.rpc === "GetSecret").length;
  return { ...fake, client, lines, token, gets };
}

/** Waits until `check` passes (the watcher works through microtasks and short timers). */
async function until(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function recorder() {
  const seen: SecretChange<Key>[] = [];
  return { seen, callback: (change: SecretChange<Key>) => void seen.push(change) };
}

describe("client.watch", () => {
  it("opens one stream for every watched key, again when a key is added", async () => {
    const h = setup();
    h.client.watch("DATABASE_URL", () => {});
    await until(() => h.streams.length === 1);
    expect(h.streams[0]?.names).toEqual(["DATABASE_URL"]);
    expect(h.streams[0]?.token).toBe(h.token());
    h.streams[0]?.open();
    h.client.watch("STRIPE_API_KEY", () => {});
    h.client.watch("DATABASE_URL", () => {});
    await until(() => h.streams.length === 2);
    expect(h.streams[1]?.names).toEqual(["DATABASE_URL", "STRIPE_API_KEY"]);
    expect(h.streams[0]?.cancelled).toBe(true);
    expect(h.live()).toHaveLength(1);
    expect(h.gateway.calls.filter((c) => c.rpc === "RegisterToken")).toHaveLength(1);
  });

  it("drops the cached value on a change and calls back, so the next read is the new value", async () => {
    const h = setup();
    expect(await h.client.getSecret("DATABASE_URL")).toBe("postgres://v1");
    const { seen, callback } = recorder();
    h.client.watch("DATABASE_URL", callback);
    await until(() => h.streams.length === 1);
    h.streams[0]?.open();
    h.gateway.setValue("DATABASE_URL", "postgres://v2");
    h.streams[0]?.push("DATABASE_URL", 2);
    await until(() => seen.length === 1);
    expect(seen).toEqual([{ key: "DATABASE_URL", version: 2, deleted: false }]);
    expect(await h.client.getSecret("DATABASE_URL")).toBe("postgres://v2");
    // The same version again (a duplicate) is not a change.
    h.streams[0]?.push("DATABASE_URL", 2);
    h.streams[0]?.push("DATABASE_URL", 0, true);
    await until(() => seen.length === 2);
    expect(seen[1]).toEqual({ key: "DATABASE_URL", version: 0, deleted: true });
  });

  it("reads again after the first versions arrive, without calling back", async () => {
    const h = setup();
    await h.client.getSecret("DATABASE_URL");
    const before = h.gets();
    const { seen, callback } = recorder();
    h.client.watch("DATABASE_URL", callback);
    await until(() => h.streams.length === 1);
    h.streams[0]?.open();
    await h.client.getSecret("DATABASE_URL");
    expect(h.gets()).toBe(before + 1);
    expect(seen).toEqual([]);
  });

  it("with autoRefresh, fetches the new value before calling back", async () => {
    const h = setup({ autoRefresh: true });
    await h.client.getSecret("STRIPE_API_KEY");
    const values: string[] = [];
    let getsInCallback = 0;
    h.client.watch("STRIPE_API_KEY", async () => {
      const before = h.gets();
      values.push(await h.client.getSecret("STRIPE_API_KEY"));
      getsInCallback += h.gets() - before;
    });
    await until(() => h.streams.length === 1);
    h.streams[0]?.open();
    h.gateway.setValue("STRIPE_API_KEY", "sk_v2");
    h.streams[0]?.push("STRIPE_API_KEY", 2);
    await until(() => values.length === 1);
    expect(values).toEqual(["sk_v2"]);
    expect(getsInCallback).toBe(0);
  });

  it("reconnects after the stream fails and reports what changed meanwhile", async () => {
    const h = setup();
    const { seen, callback } = recorder();
    h.client.watch("DATABASE_URL", callback);
    h.client.watch("STRIPE_API_KEY", callback);
    await until(() => h.streams.length === 1);
    h.streams[0]?.open();
    h.streams[0]?.end({ code: "UNAVAILABLE", details: "gateway restarting" });
    h.versions.set("DATABASE_URL", 5);
    await until(() => h.streams.length === 2);
    h.streams[1]?.open();
    await until(() => seen.length === 1);
    expect(seen).toEqual([{ key: "DATABASE_URL", version: 5, deleted: false }]);
    const warnings = h.lines.filter((l) => l.message === "watch stream lost; reconnecting");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toMatchObject({ code: "UNAVAILABLE", serviceName: "orders" });
    expect(h.lines.filter((l) => l.message === "watching secrets").map((l) => l.fields.reconnected)).toEqual([
      undefined,
      true,
    ]);
  });

  it("backs off between failed attempts and starts over once a stream opens", async () => {
    const h = setup();
    h.client.watch("DATABASE_URL", () => {});
    const started = Date.now();
    for (let i = 1; i <= 3; i++) {
      await until(() => h.streams.length === i);
      h.streams[i - 1]?.end();
    }
    await until(() => h.streams.length === 4);
    // With no jitter: 125 + 250 + 500 ms between the four attempts.
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    h.streams[3]?.open();
    h.streams[3]?.end();
    const reopened = Date.now();
    await until(() => h.streams.length === 5);
    expect(Date.now() - reopened).toBeLessThan(400);
  });

  it("registers the token again when the gateway no longer knows it", async () => {
    const h = setup();
    h.client.watch("DATABASE_URL", () => {});
    await until(() => h.streams.length === 1);
    h.streams[0]?.end({ code: "UNAUTHENTICATED", details: "The service token is not registered" });
    await until(() => h.streams.length === 2);
    expect(h.gateway.calls.filter((c) => c.rpc === "RegisterToken")).toHaveLength(2);
  });

  it("keeps trying, slowly, while the token awaits approval", async () => {
    const h = setup();
    h.client.watch("DATABASE_URL", () => {});
    await until(() => h.streams.length === 1);
    h.streams[0]?.end({ code: "PERMISSION_DENIED", reason: "TOKEN_PENDING_APPROVAL", details: "pending" });
    await until(() => h.streams.length === 2);
    h.streams[1]?.end({ code: "PERMISSION_DENIED", reason: "TOKEN_PENDING_APPROVAL", details: "pending" });
    await until(() => h.streams.length === 3);
    expect(h.lines.filter((l) => l.message === "watch stream lost; reconnecting")).toHaveLength(1);
  });

  it("stops the stream when the last callback is removed, and on close", async () => {
    const h = setup();
    const stopA = h.client.watch("DATABASE_URL", () => {});
    const stopB = h.client.watch("DATABASE_URL", () => {});
    await until(() => h.streams.length === 1);
    stopA();
    expect(h.live()).toHaveLength(1);
    stopB();
    expect(h.live()).toHaveLength(0);
    h.client.watch("STRIPE_API_KEY", () => {});
    await until(() => h.live().length === 1);
    h.client.close();
    expect(h.live()).toHaveLength(0);
  });

  it("does not cache a value read before the change arrived", async () => {
    const h = setup();
    const { seen, callback } = recorder();
    h.client.watch("DATABASE_URL", callback);
    await until(() => h.streams.length === 1);
    h.streams[0]?.open();
    h.gateway.setValue("DATABASE_URL", "postgres://v2");
    h.streams[0]?.push("DATABASE_URL", 2);
    await until(() => seen.length === 1);
    // A read of v2 is under way when v3 is announced: its answer must not be cached.
    const fast = h.transport.getSecret;
    let release = () => {};
    h.transport.getSecret = async (...args) => {
      const answer = await fast(...args);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return answer;
    };
    const racing = h.client.getSecret("DATABASE_URL");
    await until(() => h.gets() === 1);
    h.transport.getSecret = fast;
    h.gateway.setValue("DATABASE_URL", "postgres://v3");
    h.streams[0]?.push("DATABASE_URL", 3);
    await until(() => seen.length === 2);
    expect(await h.client.getSecret("DATABASE_URL")).toBe("postgres://v3");
    release();
    expect(await racing).toBe("postgres://v2");
    expect(await h.client.getSecret("DATABASE_URL")).toBe("postgres://v3");
    expect(h.gets()).toBe(2);
  });

  it("keeps calling back after a callback throws, logging only the error's class", async () => {
    const h = setup();
    const { seen, callback } = recorder();
    h.client.watch("DATABASE_URL", () => {
      throw new Error("cannot reconnect with postgres://v2-secret-password");
    });
    h.client.watch("DATABASE_URL", callback);
    await until(() => h.streams.length === 1);
    h.streams[0]?.open();
    h.streams[0]?.push("DATABASE_URL", 2);
    await until(() => seen.length === 1);
    const logged = JSON.stringify(h.lines);
    expect(logged).toContain("a secret watch callback failed");
    expect(logged).not.toContain("v2-secret-password");
    expect(logged).not.toContain(h.token());
  });

  it("refuses an undeclared key, and does nothing with source env", () => {
    const h = setup();
    expect(() => h.client.watch("NOPE" as Key, () => {})).toThrow(SecretsConfigurationError);
    const env = createSecretsClient(schema, { source: "env", env: { DATABASE_URL: "x" } });
    const stop = env.watch("DATABASE_URL", () => {});
    expect(typeof stop).toBe("function");
    stop();
    env.close();
  });
});
