import { status } from "@grpc/grpc-js";
import {
  BusError,
  ErrorCode,
  forwardToken,
  Reason,
  serve,
  serviceOperations,
  vaultQueue,
} from "@secrets/bus";
import { silentLogger } from "@secrets/logger";
import type { SealedReplyValue, VaultGetSecretRequest } from "@secrets/proto/vault";
import { ReplySealer, sealedReplyContext } from "@secrets/sealing";
import { afterEach, describe, expect, it } from "vitest";
import { getSecret, type Harness, manualClock, RecordingBus, startGateway, text } from "../test/harness.ts";

const token = "tok_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const valid = { secretName: "STRIPE_API_KEY", description: "Stripe key", token };

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Serves getSecret on the harness's bus with `answer`, recording each request. */
function fakeVault(
  h: Harness,
  answer: (request: VaultGetSecretRequest) => Promise<{ value: string; sealed?: SealedReplyValue }>,
) {
  const seen: VaultGetSecretRequest[] = [];
  const subscription = serve(h.bus, serviceOperations.getSecret, { queue: vaultQueue }, (request) => {
    seen.push(request);
    return answer(request);
  });
  return { seen, subscription };
}

describe("GetSecret", () => {
  it("returns the value with success, and a request id in initial and trailing metadata", async () => {
    harness = await startGateway();
    const vault = fakeVault(harness, async () => ({ value: "sk_live_123" }));
    const result = await getSecret(harness, valid);
    expect(result.error).toBeUndefined();
    expect(result.response).toMatchObject({ value: "sk_live_123", success: true });
    const requestId = text(result.initial, "secrets-request-id");
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(text(result.trailers, "secrets-request-id")).toBe(requestId);
    expect(vault.seen).toHaveLength(1);
    // Only the token's hash crosses the bus.
    expect(vault.seen[0]).toMatchObject({
      secretName: "STRIPE_API_KEY",
      description: "Stripe key",
      token: forwardToken(token),
    });
  });

  it("sends its reply key, and opens the value the vault sealed to it", async () => {
    harness = await startGateway();
    const sealer = new ReplySealer();
    const vault = fakeVault(harness, async (request) => ({
      value: "",
      sealed: sealer.seal(
        request.replyKey,
        "sk_live_sealed",
        sealedReplyContext(request.secretName, request.caller?.requestId ?? ""),
      ),
    }));
    const first = await getSecret(harness, valid);
    expect(first.response).toMatchObject({ value: "sk_live_sealed", success: true });
    await getSecret(harness, valid);
    expect(vault.seen[0]?.replyKey).toHaveLength(32);
    // One key pair per gateway process (renewed hourly), not per call.
    expect(
      Buffer.from(vault.seen[1]?.replyKey ?? []).equals(Buffer.from(vault.seen[0]?.replyKey ?? [])),
    ).toBe(true);
  });

  it("fails with INTERNAL, passing nothing on, when a sealed reply does not open", async () => {
    harness = await startGateway();
    const sealer = new ReplySealer();
    fakeVault(harness, async (request) => ({
      value: "",
      // Sealed for another call: the request id differs.
      sealed: sealer.seal(
        request.replyKey,
        "sk_live_other",
        sealedReplyContext(request.secretName, "another"),
      ),
    }));
    const result = await getSecret(harness, valid);
    expect(result.error?.code).toBe(status.INTERNAL);
    expect(JSON.stringify(result)).not.toContain("sk_live_other");
  });

  it("sends the peer address, user agent and request id to the vault", async () => {
    harness = await startGateway();
    const vault = fakeVault(harness, async () => ({ value: "v" }));
    const result = await getSecret(harness, valid);
    const caller = vault.seen[0]?.caller;
    expect(caller?.ipAddress).toBe("127.0.0.1");
    expect(caller?.userAgent).toMatch(/^harness-sdk\/1\.0 grpc-node-js\//);
    expect(caller?.requestId).toBe(text(result.initial, "secrets-request-id"));
  });

  it("prefers the authorization metadata's token over the request field", async () => {
    harness = await startGateway();
    const vault = fakeVault(harness, async () => ({ value: "v" }));
    const fromHeader = "hdr_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    await getSecret(harness, valid, { metadata: { authorization: `Bearer ${fromHeader}` } });
    await getSecret(
      harness,
      { ...valid, token: "" },
      { metadata: { authorization: `bearer ${fromHeader}` } },
    );
    expect(vault.seen.map((r) => r.token)).toEqual([forwardToken(fromHeader), forwardToken(fromHeader)]);
  });

  it("refuses an authorization header that is not a bearer token", async () => {
    harness = await startGateway();
    const vault = fakeVault(harness, async () => ({ value: "v" }));
    const result = await getSecret(harness, valid, {
      metadata: { authorization: "Basic dXNlcjpwdw==" },
    });
    expect(result.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(result.error?.details).toMatch(/authorization: must be `Bearer <token>`/);
    expect(vault.seen).toHaveLength(0);
  });

  it.each([
    ["secret_name", { secretName: "lower_case" }],
    ["secret_name", { secretName: "" }],
    ["description", { description: "d".repeat(1025) }],
    ["token", { token: "" }],
    ["token", { token: "t".repeat(513) }],
  ])("refuses an invalid %s with INVALID_ARGUMENT before the bus", async (field, change) => {
    harness = await startGateway();
    const vault = fakeVault(harness, async () => ({ value: "v" }));
    const result = await getSecret(harness, { ...valid, ...change });
    expect(result.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(result.error?.details).toContain(`${field}:`);
    expect(text(result.trailers, "secrets-reason")).toBeUndefined();
    expect(vault.seen).toHaveLength(0);
  });

  it("names every failing field at once", async () => {
    harness = await startGateway();
    const result = await getSecret(harness, { secretName: "9X", description: "\u0001", token: "" });
    expect(result.error?.code).toBe(status.INVALID_ARGUMENT);
    for (const field of ["secret_name", "description", "token"])
      expect(result.error?.details).toContain(`${field}:`);
  });

  it("refuses an oversized message without reaching the vault", async () => {
    harness = await startGateway();
    const vault = fakeVault(harness, async () => ({ value: "v" }));
    const result = await getSecret(harness, { ...valid, description: "x".repeat(64 * 1024) });
    expect(result.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(vault.seen).toHaveLength(0);
  });
});

describe("GetSecret when the vault is away or slow", () => {
  it("answers UNAVAILABLE well within a 2 s deadline when no vault is running", async () => {
    harness = await startGateway();
    const result = await getSecret(harness, valid, { deadlineMs: 2_000 });
    expect(result.error?.code).toBe(status.UNAVAILABLE);
    expect(result.error?.details).toMatch(/vault is not answering/);
    expect(result.elapsedMs).toBeLessThan(1_000);
  });

  it("serves again once the vault is back, without a restart", async () => {
    harness = await startGateway();
    expect((await getSecret(harness, valid)).error?.code).toBe(status.UNAVAILABLE);
    const vault = fakeVault(harness, async () => ({ value: "back" }));
    expect((await getSecret(harness, valid)).response?.value).toBe("back");
    await vault.subscription.unsubscribe();
    expect((await getSecret(harness, valid)).error?.code).toBe(status.UNAVAILABLE);
  });

  it("answers within the deadline when the vault hangs", async () => {
    harness = await startGateway();
    fakeVault(harness, () => new Promise(() => {}));
    const result = await getSecret(harness, valid, { deadlineMs: 600 });
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(result.error?.code);
    expect(result.elapsedMs).toBeLessThan(900);
  });

  it("bounds the bus timeout by the time left before the deadline", async () => {
    const bus = new RecordingBus({
      namespace: "test",
      logger: silentLogger,
    });
    harness = await startGateway({ bus, vaultTimeoutMs: 5_000 });
    fakeVault(harness, async () => ({ value: "v" }));
    const subject = serviceOperations.getSecret.subject;
    const timeouts = () => bus.requests.filter((r) => r.subject === subject).map((r) => r.timeoutMs);

    await getSecret(harness, valid, { deadlineMs: 400 });
    await getSecret(harness, valid, { deadlineMs: 60_000 });
    const [short, long] = timeouts();
    expect(short).toBeGreaterThan(0);
    expect(short).toBeLessThanOrEqual(400 - 50);
    expect(long).toBe(5_000);
  });

  it("never sends an internal error's detail to the client, but logs it", async () => {
    harness = await startGateway();
    const h = harness;
    const vault = fakeVault(h, async (request) => {
      if (request.secretName === "PLAIN") throw new Error("SELECT value FROM secrets -- password=hunter2");
      throw new BusError(ErrorCode.INTERNAL, "keyring: key id 7 failed to unwrap");
    });
    for (const secretName of ["PLAIN", "BUSERROR"]) {
      const result = await getSecret(h, { ...valid, secretName });
      expect(result.error?.code).toBe(status.INTERNAL);
      expect(result.error?.details).toMatch(
        /^The gateway could not handle the request \(request id [0-9a-f-]{36}\)/,
      );
      expect(result.error?.details).not.toMatch(/hunter2|SELECT|key id 7/);
      expect(JSON.stringify(result.trailers.getMap())).not.toMatch(/hunter2|key id 7/);
    }
    expect(vault.seen).toHaveLength(2);
    const logged = h.lines.filter((line) => line.grpcStatus === "INTERNAL");
    expect(logged).toHaveLength(2);
    expect(String(logged[1]?.detail)).toMatch(/key id 7/);
  });
});

describe("GetSecret failed-authentication limit", () => {
  it("refuses a peer that spent its budget without asking the vault, until the bucket refills", async () => {
    const clock = manualClock();
    harness = await startGateway({
      now: clock.now,
      rateLimits: { registerPerMinute: 30, authFailuresPerMinute: 2 },
    });
    const vault = fakeVault(harness, async () => {
      throw new BusError(ErrorCode.UNAUTHENTICATED, "Unknown token", {});
    });
    for (let i = 0; i < 2; i++) {
      expect((await getSecret(harness, valid)).error?.code).toBe(status.UNAUTHENTICATED);
    }
    const refused = await getSecret(harness, valid);
    expect(refused.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(text(refused.trailers, "secrets-reason")).toBe("RATE_LIMITED");
    expect(refused.error?.details).toMatch(/try again in 30 s/);
    expect(vault.seen).toHaveLength(2);

    clock.advance(30_000); // one failure's worth refills at 2 per minute
    expect((await getSecret(harness, valid)).error?.code).toBe(status.UNAUTHENTICATED);
    expect(vault.seen).toHaveLength(3);
    expect((await getSecret(harness, valid)).error?.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it("does not count other failures or successes against the peer", async () => {
    const clock = manualClock();
    harness = await startGateway({
      now: clock.now,
      rateLimits: { registerPerMinute: 30, authFailuresPerMinute: 1 },
    });
    fakeVault(harness, async (request) => {
      if (request.secretName === "DENIED") {
        throw new BusError(ErrorCode.PERMISSION_DENIED, "No access", { reason: Reason.ACCESS_DENIED });
      }
      return { value: "v" };
    });
    for (let i = 0; i < 3; i++) {
      expect((await getSecret(harness, { ...valid, secretName: "DENIED" })).error?.code).toBe(
        status.PERMISSION_DENIED,
      );
      expect((await getSecret(harness, valid)).response?.success).toBe(true);
    }
  });
});

describe("GetSecret logging", () => {
  it("writes one line per call with its outcome, never the token or the value", async () => {
    harness = await startGateway();
    fakeVault(harness, async () => ({ value: "sk_live_VALUE_123" }));
    const ok = await getSecret(harness, valid, { metadata: { authorization: `Bearer ${token}` } });
    const bad = await getSecret(harness, { ...valid, secretName: "bad" });
    const calls = harness.lines.filter((line) => line.msg === "grpc call");
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({
      method: "GetSecret",
      grpcStatus: "OK",
      reason: "",
      requestId: text(ok.initial, "secrets-request-id"),
      peer: "127.0.0.1",
    });
    expect(typeof calls[0]?.durationMs).toBe("number");
    expect(calls[1]).toMatchObject({
      grpcStatus: "INVALID_ARGUMENT",
      requestId: text(bad.initial, "secrets-request-id"),
    });
    const everything = JSON.stringify(harness.lines);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain("sk_live_VALUE_123");
  });
});
