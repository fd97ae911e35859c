import { type ClientReadableStream, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import {
  BusError,
  ErrorCode,
  forwardToken,
  MemoryBus,
  type MessageHandler,
  publish,
  Reason,
  type Subscription,
  secretChangedTopic,
  serve,
  serviceOperations,
  vaultQueue,
} from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import type { SecretChange, WatchSecretsRequest } from "@secrets/proto/secrets";
import type { VaultAuthorizeWatchReply, VaultAuthorizeWatchRequest } from "@secrets/proto/vault";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, startGateway, text } from "../test/harness.ts";
import type { GatewayDeps } from "./server.ts";

const token = "tok_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const revokedReason = { reason: Reason.TOKEN_DENIED };

let harness: Harness | undefined;
const watches: Watch[] = [];
afterEach(async () => {
  for (const watch of watches.splice(0)) watch.cancel();
  await harness?.close();
  harness = undefined;
});

/** A gateway whose re-checks retry fast, so tests about the vault's absence stay short. */
function start(overrides: Partial<GatewayDeps> = {}) {
  return startGateway({ watchRetry: { initialDelayMs: 20, maxDelayMs: 100 }, ...overrides });
}

/** A fake vault answering authorize-watch from a table of granted versions; `answer` overrides it per request. */
function fakeVault(
  h: Harness,
  grantedVersions: Map<string, number>,
  answer?: (request: VaultAuthorizeWatchRequest) => Promise<VaultAuthorizeWatchReply | undefined>,
) {
  const seen: VaultAuthorizeWatchRequest[] = [];
  const subscription = serve(h.bus, serviceOperations.authorizeWatch, { queue: vaultQueue }, async (req) => {
    seen.push(req);
    const custom = await answer?.(req);
    if (custom) return custom;
    return {
      secrets: req.secretNames
        .filter((name) => grantedVersions.has(name))
        .map((name) => ({ secretName: name, version: grantedVersions.get(name) ?? 0 })),
    };
  });
  return { seen, subscription };
}

interface Watch {
  changes: SecretChange[];
  initial: Promise<Metadata>;
  ended: Promise<{ code: status; details: string; trailers: Metadata }>;
  cancel(): void;
  /** Resolves once `count` changes have arrived. */
  received(count: number, timeoutMs?: number): Promise<SecretChange[]>;
}

function watch(h: Harness, request: Partial<WatchSecretsRequest>, metadata: Record<string, string> = {}) {
  const md = new Metadata();
  for (const [key, value] of Object.entries({ authorization: `Bearer ${token}`, ...metadata }))
    md.set(key, value);
  const call: ClientReadableStream<SecretChange> = h.client.watchSecrets(
    { secretNames: [], token: "", ...request },
    md,
  );
  const changes: SecretChange[] = [];
  const waiters: (() => void)[] = [];
  call.on("data", (change: SecretChange) => {
    changes.push(change);
    for (const wake of waiters.splice(0)) wake();
  });
  call.on("error", (_error: ServiceError) => {});
  const initial = new Promise<Metadata>((resolve) => call.on("metadata", resolve));
  const ended = new Promise<{ code: status; details: string; trailers: Metadata }>((resolve) =>
    call.on("status", (s) => resolve({ code: s.code, details: s.details, trailers: s.metadata })),
  );
  const result: Watch = {
    changes,
    initial,
    ended,
    cancel: () => call.cancel(),
    async received(count, timeoutMs = 3_000) {
      const deadline = Date.now() + timeoutMs;
      while (changes.length < count) {
        if (Date.now() > deadline) throw new Error(`got ${JSON.stringify(changes)}, wanted ${count}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return changes.slice(0, count);
    },
  };
  watches.push(result);
  return result;
}

const changed = (h: Harness, secretName: string, version: number, deleted = false) =>
  publish(h.bus, secretChangedTopic, { secretId: `id-${secretName}`, secretName, version, deleted });

async function settled(ms = 100) {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

describe("WatchSecrets", () => {
  it("sends the current version of every granted name first, with a request id", async () => {
    harness = await start();
    const vault = fakeVault(
      harness,
      new Map([
        ["DB_URL", 3],
        ["API_KEY", 1],
      ]),
    );
    const w = watch(harness, { secretNames: ["DB_URL", "NOT_GRANTED", "API_KEY", "DB_URL"] });
    expect(await w.received(2)).toEqual([
      { secretName: "DB_URL", version: 3, deleted: false },
      { secretName: "API_KEY", version: 1, deleted: false },
    ]);
    expect(text(await w.initial, "secrets-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(vault.seen).toHaveLength(1);
    expect(vault.seen[0]).toMatchObject({
      secretNames: ["DB_URL", "NOT_GRANTED", "API_KEY"],
      token: forwardToken(token), // only its hash crosses the bus
    });
    expect(vault.seen[0]?.caller?.ipAddress).toBe("127.0.0.1");
    expect(harness.gateway.openWatchStreams()).toBe(1);
  });

  it("re-checks a changed name with the vault and pushes its new version", async () => {
    harness = await start();
    const grantedVersions = new Map([["DB_URL", 3]]);
    const vault = fakeVault(harness, grantedVersions);
    const w = watch(harness, { secretNames: ["DB_URL"] });
    await w.received(1);
    grantedVersions.set("DB_URL", 4);
    changed(harness, "DB_URL", 4);
    expect((await w.received(2))[1]).toEqual({ secretName: "DB_URL", version: 4, deleted: false });
    expect(vault.seen.map((r) => r.secretNames)).toEqual([["DB_URL"], ["DB_URL"]]);
    // Changes of names nobody watches never reach the vault.
    changed(harness, "SOMETHING_ELSE", 9);
    await settled();
    expect(vault.seen).toHaveLength(2);
    expect(w.changes).toHaveLength(2);
  });

  it("ends the stream with the vault's status when the token is no longer valid", async () => {
    harness = await start();
    let revoked = false;
    fakeVault(harness, new Map([["DB_URL", 1]]), async () => {
      if (!revoked) return undefined;
      throw new BusError(
        ErrorCode.PERMISSION_DENIED,
        'The token of service "orders" was revoked',
        revokedReason,
      );
    });
    const w = watch(harness, { secretNames: ["DB_URL"] });
    await w.received(1);
    revoked = true;
    changed(harness, "DB_URL", 2);
    const end = await w.ended;
    expect(end.code).toBe(status.PERMISSION_DENIED);
    expect(end.details).toMatch(/revoked/);
    expect(text(end.trailers, "secrets-reason")).toBe("TOKEN_DENIED");
    expect(w.changes).toHaveLength(1);
    expect(harness.gateway.openWatchStreams()).toBe(0);
  });

  it("drops a name whose grant is gone without a word, and reports a deletion", async () => {
    harness = await start();
    const grantedVersions = new Map([
      ["DB_URL", 1],
      ["API_KEY", 5],
    ]);
    fakeVault(harness, grantedVersions);
    const w = watch(harness, { secretNames: ["DB_URL", "API_KEY"] });
    await w.received(2);
    grantedVersions.delete("DB_URL");
    changed(harness, "DB_URL", 2);
    await settled();
    expect(w.changes).toHaveLength(2);
    grantedVersions.delete("API_KEY");
    changed(harness, "API_KEY", 0, true);
    expect((await w.received(3))[2]).toEqual({ secretName: "API_KEY", version: 0, deleted: true });
    // A name granted again is pushed on its next change: the stream still watches what it asked for.
    grantedVersions.set("DB_URL", 3);
    changed(harness, "DB_URL", 3);
    expect((await w.received(4))[3]).toEqual({ secretName: "DB_URL", version: 3, deleted: false });
  });

  it("refuses the stream with the vault's status when the token is refused at once", async () => {
    harness = await start();
    fakeVault(harness, new Map(), async () => {
      throw new BusError(ErrorCode.PERMISSION_DENIED, "awaits approval", {
        reason: Reason.TOKEN_PENDING_APPROVAL,
      });
    });
    const end = await watch(harness, { secretNames: ["DB_URL"] }).ended;
    expect(end.code).toBe(status.PERMISSION_DENIED);
    expect(text(end.trailers, "secrets-reason")).toBe("TOKEN_PENDING_APPROVAL");
    expect(text(end.trailers, "secrets-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("keeps the stream while the vault is away and pushes the change once it is back", async () => {
    harness = await start();
    const h = harness;
    const grantedVersions = new Map([["DB_URL", 1]]);
    const first = fakeVault(h, grantedVersions);
    const w = watch(h, { secretNames: ["DB_URL"] });
    await w.received(1);
    await first.subscription.unsubscribe();
    grantedVersions.set("DB_URL", 2);
    changed(h, "DB_URL", 2);
    await settled(300);
    expect(w.changes).toHaveLength(1);
    const back = fakeVault(h, grantedVersions);
    expect((await w.received(2))[1]).toEqual({ secretName: "DB_URL", version: 2, deleted: false });
    expect(back.seen.map((r) => r.secretNames)).toEqual([["DB_URL"]]);
    expect(h.lines.some((l) => l.msg === "watch re-check failed; retrying")).toBe(true);
  });

  it("retries while the audit trail is down instead of ending the stream", async () => {
    harness = await start();
    let auditDown = false;
    const grantedVersions = new Map([["DB_URL", 1]]);
    fakeVault(harness, grantedVersions, async () => {
      if (!auditDown) return undefined;
      auditDown = false;
      throw new BusError(ErrorCode.UNAVAILABLE, "audit down", { reason: Reason.AUDIT_UNAVAILABLE });
    });
    const w = watch(harness, { secretNames: ["DB_URL"] });
    await w.received(1);
    auditDown = true;
    grantedVersions.set("DB_URL", 2);
    changed(harness, "DB_URL", 2);
    expect((await w.received(2))[1]?.version).toBe(2);
  });

  it("checks every watched name again after the bus reconnects, so a missed change is pushed", async () => {
    let connected = true;
    class FlakyBus extends MemoryBus {
      override isConnected(): boolean {
        return connected && super.isConnected();
      }
    }
    harness = await start({ bus: new FlakyBus({ namespace: "test", logger: silentLogger }) });
    const grantedVersions = new Map([
      ["DB_URL", 1],
      ["API_KEY", 1],
    ]);
    const vault = fakeVault(harness, grantedVersions);
    const w = watch(harness, { secretNames: ["DB_URL", "API_KEY"] });
    await w.received(2);
    connected = false;
    await settled(1_100);
    grantedVersions.set("API_KEY", 2); // its event was published while the gateway was cut off
    connected = true;
    expect((await w.received(3))[2]).toEqual({ secretName: "API_KEY", version: 2, deleted: false });
    expect(vault.seen.at(-1)?.secretNames).toEqual(["DB_URL", "API_KEY"]);
    expect(w.changes).toHaveLength(3);
  });

  it("shares one bus subscription between every stream", async () => {
    const subscriptions: string[] = [];
    class CountingBus extends MemoryBus {
      override subscribe(subject: string, handler: MessageHandler): Subscription {
        subscriptions.push(subject);
        return super.subscribe(subject, handler);
      }
    }
    harness = await start({ bus: new CountingBus({ namespace: "test", logger: silentLogger }) });
    fakeVault(harness, new Map([["DB_URL", 1]]));
    const streams = [1, 2, 3].map(() => watch(harness as Harness, { secretNames: ["DB_URL"] }));
    await Promise.all(streams.map((w) => w.received(1)));
    changed(harness, "DB_URL", 1);
    expect(subscriptions.filter((s) => s === secretChangedTopic.subject)).toHaveLength(1);
  });

  it("releases a stream the client cancels", async () => {
    harness = await start({ watchLimits: { maxStreams: 10, maxStreamsPerPeer: 1 } });
    fakeVault(harness, new Map([["DB_URL", 1]]));
    const first = watch(harness, { secretNames: ["DB_URL"] });
    await first.received(1);
    first.cancel();
    await expect.poll(() => harness?.gateway.openWatchStreams()).toBe(0);
    const second = watch(harness, { secretNames: ["DB_URL"] });
    expect(await second.received(1)).toHaveLength(1);
  });

  it("keeps an idle stream open across keepalive pings", async () => {
    harness = await start({ keepalive: { timeMs: 200, timeoutMs: 1_000 } });
    const grantedVersions = new Map([["DB_URL", 1]]);
    fakeVault(harness, grantedVersions);
    const w = watch(harness, { secretNames: ["DB_URL"] });
    await w.received(1);
    await settled(1_200);
    grantedVersions.set("DB_URL", 2);
    changed(harness, "DB_URL", 2);
    expect((await w.received(2))[1]?.version).toBe(2);
  });
});

describe("WatchSecrets limits and validation", () => {
  it.each([
    ["no names", { secretNames: [] }, "secret_names: must name at least one secret"],
    ["a bad name", { secretNames: ["GOOD", "bad"] }, "secret_names[1]:"],
    [
      "too many names",
      { secretNames: Array.from({ length: 101 }, (_, i) => `S_${i}`) },
      "secret_names: must name at most 100 secrets",
    ],
  ])("refuses %s with INVALID_ARGUMENT before the bus", async (_case, request, message) => {
    harness = await start();
    const vault = fakeVault(harness, new Map());
    const end = await watch(harness, request).ended;
    expect(end.code).toBe(status.INVALID_ARGUMENT);
    expect(end.details).toContain(message);
    expect(vault.seen).toHaveLength(0);
  });

  it("refuses a stream without a token, and an authorization that is not a bearer token", async () => {
    harness = await start();
    fakeVault(harness, new Map());
    const h = harness;
    const call = h.client.watchSecrets({ secretNames: ["DB_URL"], token: "" });
    call.on("error", () => {});
    const end = await new Promise<{ code: status; details: string }>((resolve) => call.on("status", resolve));
    expect(end.code).toBe(status.INVALID_ARGUMENT);
    expect(end.details).toContain("token: is required");
    const basic = await watch(h, { secretNames: ["DB_URL"] }, { authorization: "Basic eA==" }).ended;
    expect(basic.details).toContain("authorization: must be `Bearer <token>`");
  });

  it("bounds the streams per peer and in total", async () => {
    harness = await start({ watchLimits: { maxStreams: 3, maxStreamsPerPeer: 2 } });
    fakeVault(harness, new Map([["DB_URL", 1]]));
    const h = harness;
    const open = [watch(h, { secretNames: ["DB_URL"] }), watch(h, { secretNames: ["DB_URL"] })];
    await Promise.all(open.map((w) => w.received(1)));
    const third = await watch(h, { secretNames: ["DB_URL"] }).ended;
    expect(third.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(third.details).toMatch(/This address has 2 watch streams open/);
    expect(text(third.trailers, "secrets-reason")).toBe("RATE_LIMITED");
    expect(h.gateway.openWatchStreams()).toBe(2);
  });

  it("bounds the streams in total", async () => {
    harness = await start({ watchLimits: { maxStreams: 1, maxStreamsPerPeer: 5 } });
    fakeVault(harness, new Map([["DB_URL", 1]]));
    await watch(harness, { secretNames: ["DB_URL"] }).received(1);
    const second = await watch(harness, { secretNames: ["DB_URL"] }).ended;
    expect(second.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(second.details).toMatch(/as many watch streams open as it allows/);
  });

  it("counts unknown tokens against the peer's failed-authentication budget", async () => {
    harness = await start({ rateLimits: { registerPerMinute: 30, authFailuresPerMinute: 2 } });
    const vault = fakeVault(harness, new Map(), async () => {
      throw new BusError(ErrorCode.UNAUTHENTICATED, "The service token is not registered");
    });
    for (let i = 0; i < 2; i++)
      expect((await watch(harness, { secretNames: ["DB_URL"] }).ended).code).toBe(status.UNAUTHENTICATED);
    const refused = await watch(harness, { secretNames: ["DB_URL"] }).ended;
    expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(text(refused.trailers, "secrets-reason")).toBe("RATE_LIMITED");
    expect(vault.seen).toHaveLength(2);
  });
});

describe("WatchSecrets on shutdown", () => {
  it("ends every stream with UNAVAILABLE at once, so clients reconnect", async () => {
    harness = await start();
    fakeVault(harness, new Map([["DB_URL", 1]]));
    const streams = [
      watch(harness, { secretNames: ["DB_URL"] }),
      watch(harness, { secretNames: ["DB_URL"] }),
    ];
    await Promise.all(streams.map((w) => w.received(1)));
    const started = performance.now();
    const shutdown = harness.gateway.shutdown(10_000);
    const ends = await Promise.all(streams.map((w) => w.ended));
    expect(ends.map((e) => e.code)).toEqual([status.UNAVAILABLE, status.UNAVAILABLE]);
    expect(ends[0]?.details).toMatch(/shutting down/);
    await shutdown;
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(
      harness.lines.filter((l) => l.method === "WatchSecrets" && l.grpcStatus === "UNAVAILABLE"),
    ).toHaveLength(2);
  });
});
